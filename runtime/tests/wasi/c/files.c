/* An ordinary C program (wasi-libc): stdio, argv, getenv, files and directories on a preopen,
 * time, randomness, errno on escapes. Run by run.sh with the preopen /data holding in.txt;
 * prints only deterministic lines and exits with status 5. A path outside every preopen never reaches
 * the host: wasi-libc itself fails it with ENOTCAPABLE ("Capabilities insufficient"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    printf("hello from C, %d args:", argc - 1);
    for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
    printf("\nGREETING=%s\n", getenv("GREETING") ? getenv("GREETING") : "(unset)");

    char buf[128] = {0};
    FILE *in = fopen("/data/in.txt", "r");
    if (!in) { perror("fopen"); return 1; }
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    printf("in.txt: %zu bytes: %s", n, buf);

    if (mkdir("/data/out", 0755) != 0) { perror("mkdir"); return 1; }
    FILE *out = fopen("/data/out/a.txt", "w");
    fprintf(out, "written by C\n");
    fclose(out);
    if (rename("/data/out/a.txt", "/data/out/b.txt") != 0) { perror("rename"); return 1; }
    struct stat st;
    stat("/data/out/b.txt", &st);
    printf("b.txt: regular=%d size=%lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
    int fd = open("/data/out/b.txt", O_RDONLY);
    printf("lseek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    close(fd);

    char *names[16];
    int count = 0;
    DIR *d = opendir("/data");
    struct dirent *e;
    while ((e = readdir(d)) && count < 16) names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, cmp);
    printf("readdir /data:");
    for (int i = 0; i < count; i++) printf(" %s", names[i]);
    printf("\n");

    errno = 0;
    printf("open missing: %s\n", fopen("/data/missing", "r") ? "opened" : strerror(errno));
    errno = 0;
    printf("rmdir non-empty: %d %s\n", rmdir("/data/out"), strerror(errno));
    errno = 0;
    printf("open ../ escape: %s\n", open("/data/../etc/passwd", O_RDONLY) >= 0 ? "OPENED" : strerror(errno));
    errno = 0;
    printf("open outside any preopen: %s\n", fopen("/etc/passwd", "r") ? "OPENED" : strerror(errno));
    unlink("/data/out/b.txt");
    printf("rmdir empty: %d\n", rmdir("/data/out"));

    struct timespec t0, t1, wall;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ms = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("slept at least 20ms: %d\n", ms >= 20);
    clock_gettime(CLOCK_REALTIME, &wall);
    printf("time after 2020: %d\n", wall.tv_sec > 1577836800);
    unsigned char r[16] = {0};
    int nonzero = 0;
    if (getentropy(r, sizeof r) == 0)
        for (int i = 0; i < 16; i++) nonzero |= r[i];
    printf("random: %d\n", nonzero != 0);

    char line[64] = {0};
    if (fgets(line, sizeof line, stdin)) printf("stdin: %s", line);
    fflush(stdout);
    return 5;
}

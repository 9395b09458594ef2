/* A SQLite workload for tern (issue 11): an in-memory and an on-disk database, inserts in a
 * transaction, an index, and queries; prints results that sqlite.expected.txt holds. */
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static sqlite3 *db;

static void check(int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static int print_row(void *unused, int n, char **values, char **names) {
    (void)unused;
    (void)names;
    for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", values[i] ? values[i] : "NULL");
    printf("\n");
    return 0;
}

/* Runs `sql`, printing its rows if `print` is set. */
static void exec(const char *sql, int print) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, print ? print_row : NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, err);
        exit(1);
    }
}

static void query(const char *sql) { exec(sql, 1); }

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : ":memory:";
    int rows = argc > 2 ? atoi(argv[2]) : 20000;
    check(sqlite3_open(path, &db), "open");
    exec("PRAGMA journal_mode=DELETE", 0);
    query("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score INTEGER)");
    sqlite3_stmt *insert;
    check(sqlite3_prepare_v2(db, "INSERT INTO t(name, score) VALUES (?, ?)", -1, &insert, NULL),
          "prepare");
    query("BEGIN");
    for (int i = 0; i < rows; i++) {
        char name[32];
        snprintf(name, sizeof name, "name-%05d", (i * 7919) % rows);
        sqlite3_bind_text(insert, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(insert, 2, (i * 31) % 1000);
        check(sqlite3_step(insert), "insert");
        sqlite3_reset(insert);
    }
    query("COMMIT");
    sqlite3_finalize(insert);
    query("CREATE INDEX t_score ON t(score)");
    query("SELECT count(*), sum(score), min(name), max(name) FROM t");
    query("SELECT score, count(*) FROM t WHERE score BETWEEN 10 AND 14 GROUP BY score ORDER BY score");
    query("SELECT name FROM t WHERE score = 999 ORDER BY name LIMIT 3");
    query("UPDATE t SET score = score + 1 WHERE id % 2 = 0");
    query("DELETE FROM t WHERE score > 900");
    query("SELECT count(*), avg(score) FROM t");
    query("EXPLAIN QUERY PLAN SELECT * FROM t WHERE score = 5");
    check(sqlite3_close(db), "close");
    printf("ok\n");
    return 0;
}

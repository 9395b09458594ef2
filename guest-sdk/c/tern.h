/*
 * tern.h — the tern stream ABI (abi/ABI.md, version 1.1) for C guests: the imports and constants.
 *
 * Freestanding: no libc needed. Build a guest with clang and wasm-ld, for example
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=cwa_main -o hello.wasm hello.c
 *
 * Pointers and lengths are 32-bit; strings are not NUL-terminated. Functions returning int32_t give a
 * negative TERN_E* number on failure. Handles 0, 1 and 2 are stdin, stdout and stderr.
 * tern_sdk.h adds helpers (strings, env and arguments, whole resources, CGI) on top of these.
 *
 * Every name, signature and constant here is checked against the tern-abi crate (abi/src/lib.rs) by
 * the conformance harness's tests (conformance/harness/src/sdk_bindings.rs): keep one declaration
 * per line, in the form below.
 */
#ifndef TERN_H
#define TERN_H

#include <stdint.h>

#define TERN_SPEC_MAJOR 1
#define TERN_SPEC_MINOR 1

/* Error numbers (ABI.md §2). */
#define TERN_EUNKNOWN (-1)
#define TERN_EINVAL (-2)
#define TERN_EPERM (-3)
#define TERN_ENOTFOUND (-4)
#define TERN_EOF (-5)
#define TERN_EUNSUPPORTED (-6)
#define TERN_ELIMIT (-7)
#define TERN_ETIMEOUT (-8)
#define TERN_ECONNECT (-9)

/* log_write levels. */
#define TERN_LOG_ERROR 1
#define TERN_LOG_WARNING 3
#define TERN_LOG_INFO 6

/* The standard handles. */
#define TERN_STDIN 0
#define TERN_STDOUT 1
#define TERN_STDERR 2

/* Exit statuses of `tern run` when the guest did not choose one. */
#define TERN_EXIT_TRAP 134
#define TERN_EXIT_TIMEOUT 124
#define TERN_EXIT_RUNTIME_ERROR 125

#define TERN_IMPORT(name) __attribute__((import_module("cwa"), import_name(#name)))

TERN_IMPORT(log_write) void log_write(int32_t level, const char *ptr, int32_t len);
TERN_IMPORT(env_get) int32_t env_get(const char *key, int32_t key_len, char *val, int32_t val_len);
TERN_IMPORT(runtime_exit) _Noreturn void runtime_exit(int32_t status);
TERN_IMPORT(runtime_spec_major) int32_t runtime_spec_major(void);
TERN_IMPORT(runtime_spec_minor) int32_t runtime_spec_minor(void);
TERN_IMPORT(runtime_name) int32_t runtime_name(char *ptr, int32_t len);
TERN_IMPORT(runtime_msleep) void runtime_msleep(int32_t ms);
TERN_IMPORT(startup_arg_len) int32_t startup_arg_len(void);
TERN_IMPORT(startup_arg_at) int32_t startup_arg_at(int32_t i, char *ptr, int32_t len);
TERN_IMPORT(time_now) int64_t time_now(void);
TERN_IMPORT(time_now_ns) int64_t time_now_ns(void);             /* minor 1 */
TERN_IMPORT(time_monotonic_ns) int64_t time_monotonic_ns(void); /* minor 1 */
TERN_IMPORT(random_i32) int32_t random_i32(void);
TERN_IMPORT(random_i64) int64_t random_i64(void);
TERN_IMPORT(random_fill) int32_t random_fill(void *ptr, int32_t len); /* minor 1 */
TERN_IMPORT(resource_open) int32_t resource_open(const char *url, int32_t url_len);
TERN_IMPORT(resource_read) int32_t resource_read(int32_t handle, void *ptr, int32_t len);
TERN_IMPORT(resource_write) int32_t resource_write(int32_t handle, const void *ptr, int32_t len);
TERN_IMPORT(resource_close) void resource_close(int32_t handle);
TERN_IMPORT(resource_flush) int32_t resource_flush(int32_t handle);
TERN_IMPORT(io_get_stdin) int32_t io_get_stdin(void);
TERN_IMPORT(io_get_stdout) int32_t io_get_stdout(void);
TERN_IMPORT(io_get_stderr) int32_t io_get_stderr(void);

#undef TERN_IMPORT

/* Module dagger (ABI.md §6): Olin's first ABI. URLs are NUL-terminated; reads return 0 at the end. */
#define TERN_DAGGER(name) __attribute__((import_module("dagger"), import_name(#name)))

TERN_DAGGER(open) int32_t tern_dagger_open(const char *url, int32_t flags);
TERN_DAGGER(close) int32_t tern_dagger_close(int32_t fd);
TERN_DAGGER(read) int32_t tern_dagger_read(int32_t fd, void *ptr, int32_t len);
TERN_DAGGER(write) int32_t tern_dagger_write(int32_t fd, const void *ptr, int32_t len);
TERN_DAGGER(sync) int32_t tern_dagger_sync(int32_t fd);

#undef TERN_DAGGER

/* The length of a NUL-terminated string, for passing C literals to the ABI. */
static inline int32_t tern_strlen(const char *s) {
    int32_t n = 0;
    while (s[n]) n++;
    return n;
}

#endif /* TERN_H */

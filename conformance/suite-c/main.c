/* The tern conformance suite written in C with guest-sdk/c (tern.h and tern_sdk.h): the same
 * contract as the Rust suite (conformance/suite), case for case. The harness runs it once per run
 * of cases.toml with the run's name as argument 1; it prints one TAP line per case of that run. */
#include "suite.h"

struct run_info { const char *name; int tap_stderr; };
struct case_info { uint32_t id; const char *name; const char *run; };
#include "cases.h" /* generated from cases.toml by conformance/gen-cases.py */

#define N_CASES ((int32_t)(sizeof CASES / sizeof CASES[0]))
#define N_RUNS ((int32_t)(sizeof RUNS / sizeof RUNS[0]))

/* The cases, by number. */
#define C(n) extern CASE(n);
C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9) C(10) C(11) C(12) C(13) C(14) C(15) C(16) C(17) C(18)
C(19) C(20) C(21) C(22) C(23) C(24) C(25) C(26) C(27) C(28) C(29) C(30) C(31) C(32) C(33) C(34)
C(35) C(36) C(37) C(38) C(39) C(40) C(41) C(42) C(43) C(44) C(45) C(46) C(47) C(48) C(49) C(50)
C(51) C(52) C(53) C(54) C(55) C(56) C(57) C(58) C(59) C(60) C(61) C(62) C(63) C(64) C(65) C(66)
C(67) C(68) C(69) C(70) C(71) C(72) C(73) C(74) C(75) C(76) C(77) C(78) C(79) C(80) C(81) C(82)
C(83) C(84) C(85) C(86) C(87) C(88) C(89) C(90) C(91) C(92) C(93) C(94) C(95) C(96) C(97) C(98)
C(99) C(100) C(101) C(102) C(103) C(104) C(105) C(112) C(113) C(114) C(116) C(117) C(118) C(119) C(120)
C(121) C(122) C(123) C(124) C(125) C(126) C(127) C(128) C(129) C(130) C(131) C(132) C(133) C(134)
C(135) C(136) C(137) C(138) C(139) C(140) C(141) C(142)
#undef C
int32_t end_exit(void);
int32_t end_trap(void);
int32_t end_sleep(void);
int32_t end_spin(void);
static int32_t end_0(void) { return 0; }
static int32_t end_3(void) { return 3; }
static int32_t end_5(void) { return 5; }

/* A check (returns its verdict) or a case that ends the run (reported ok first; returns the
 * run's exit status, and the harness judges what happens). */
struct impl { int (*check)(void); int32_t (*ends)(void); };
#define K(n) [n] = {c##n, 0}
static const struct impl IMPL[] = {
    K(1), K(2), K(3), K(4), K(5), K(6), K(7), K(8), K(9), K(10), K(11), K(12), K(13), K(14),
    K(15), K(16), K(17), K(18), K(19), K(20), K(21), K(22), K(23), K(24), K(25), K(26), K(27),
    K(28), K(29), K(30), K(31), K(32), K(33), K(34), K(35), K(36), K(37), K(38), K(39), K(40),
    K(41), K(42), K(43), K(44), K(45), K(46), K(47), K(48), K(49), K(50), K(51), K(52), K(53),
    K(54), K(55), K(56), K(57), K(58), K(59), K(60), K(61), K(62), K(63), K(64), K(65), K(66),
    K(67), K(68), K(69), K(70), K(71), K(72), K(73), K(74), K(75), K(76), K(77), K(78), K(79),
    K(80), K(81), K(82), K(83), K(84), K(85), K(86), K(87), K(88), K(89), K(90), K(91), K(92),
    K(93), K(94), K(95), K(96), K(97), K(98), K(99), K(100), K(101), K(102), K(103), K(104),
    K(105), [106] = {0, end_0}, [107] = {0, end_exit}, [108] = {0, end_3}, [109] = {0, end_trap},
    [110] = {0, end_sleep}, [111] = {0, end_spin}, K(112), K(113), K(114),
    [115] = {0, end_5}, K(116), K(117), K(118), K(119), K(120), K(121), K(122), K(123), K(124),
    K(125), K(126), K(127), K(128), K(129), K(130), K(131), K(132), K(133), K(134), K(135),
    K(136), K(137), K(138), K(139), K(140), K(141), K(142),
};
#undef K
#define N_IMPL ((uint32_t)(sizeof IMPL / sizeof IMPL[0]))

static char reason_mem[4096];
static tern_buf reason;
extern void reset_detail(void);

static void tap_line(tern_str s) { tern_write_all(tap_handle, s.ptr, s.len); }

/* Writes `text` as "# " comment lines. */
static void comment(tern_str text) {
    while (text.len > 0) {
        int32_t nl = tern_find(text, TERN_LIT("\n"));
        tern_str line = nl < 0 ? text : tern_slice(text, 0, nl);
        tap_line(TERN_LIT("# "));
        tap_line(line);
        tap_line(TERN_LIT("\n"));
        text = nl < 0 ? (tern_str){"", 0} : tern_slice(text, nl + 1, text.len);
    }
}

static void result(const struct case_info *c, int ok, tern_str why) {
    char mem[512];
    tern_buf b;
    tern_buf_init(&b, mem, sizeof mem);
    tern_buf_cstr(&b, ok ? "ok " : "not ok ");
    tern_buf_i64(&b, c->id);
    tern_buf_cstr(&b, " - ");
    tern_buf_cstr(&b, c->name);
    tern_buf_cstr(&b, "\n");
    tap_line(tern_buf_text(&b));
    if (!ok) comment(why);
}

static void skipped(const struct case_info *c, const char *why) {
    char mem[512];
    tern_buf b;
    tern_buf_init(&b, mem, sizeof mem);
    tern_buf_cstr(&b, "ok ");
    tern_buf_i64(&b, c->id);
    tern_buf_cstr(&b, " - ");
    tern_buf_cstr(&b, c->name);
    tern_buf_cstr(&b, " # SKIP ");
    tern_buf_cstr(&b, why);
    tern_buf_cstr(&b, "\n");
    tap_line(tern_buf_text(&b));
}

static int32_t run_cases(tern_str run) {
    tap_handle = TERN_STDOUT;
    int known = 0;
    for (int32_t i = 0; i < N_RUNS; i++) {
        if (tern_str_eq(tern_cstr(RUNS[i].name), run)) {
            known = 1;
            if (RUNS[i].tap_stderr) tap_handle = TERN_STDERR;
        }
    }
    if (!known) {
        comment(TERN_LIT("unknown run: argument 1 must name a run of cases.toml"));
        return 2;
    }
    tap_line(TERN_LIT("# sdk: " TERN_SDK_NAME " (C) " TERN_SDK_VERSION "\n"));
    int32_t status = 0;
    for (int32_t i = 0; i < N_CASES; i++) {
        const struct case_info *c = &CASES[i];
        if (!tern_str_eq(tern_cstr(c->run), run)) continue;
        const struct impl *f = c->id < N_IMPL ? &IMPL[c->id] : 0;
        if (f && f->check) {
            tern_buf_init(&reason, reason_mem, sizeof reason_mem);
            reset_detail();
            int failed = f->check();
            result(c, !failed, tern_buf_text(&reason));
        } else if (f && f->ends) {
            result(c, 1, TERN_LIT(""));
            status = f->ends();
        } else {
            /* A case added to cases.toml before this suite implements it: reported apart, and a
             * failure under --require-all. */
            skipped(c, "not implemented by this suite");
        }
    }
    return status;
}

/* The reason of the failing case: used by util.c's fail functions. */
tern_buf *current_reason(void) { return &reason; }

int is_cgi_handler(void);
int32_t serve_cgi(void (*report)(uint32_t id, int ok));

/* Run cgi's TAP line for case `id`, with the reason of a failure (cgi.c). */
static void report_cgi(uint32_t id, int ok) {
    static const struct case_info unknown = {0, "", "cgi"};
    const struct case_info *c = &unknown;
    for (int32_t i = 0; i < N_CASES; i++) {
        if (CASES[i].id == id) c = &CASES[i];
    }
    tap_handle = TERN_STDOUT;
    result(c, ok, tern_buf_text(&reason));
}

__attribute__((export_name("cwa_main"))) int32_t cwa_main(void) {
    if (is_cgi_handler()) {
        /* Run cgi: one request from `tern serve`. */
        tern_buf_init(&reason, reason_mem, sizeof reason_mem);
        reset_detail();
        return serve_cgi(report_cgi);
    }
    tern_str run = {"", 0};
    tern_arg(1, &run);
    if (tern_str_eq(run, TERN_LIT("invoke"))) {
        /* The runtime should have called conformance_invoke (case 115), not cwa_main. */
        tap_handle = TERN_STDOUT;
        for (int32_t i = 0; i < N_CASES; i++) {
            if (tern_str_eq(tern_cstr(CASES[i].run), run)) {
                result(&CASES[i], 0, TERN_LIT("the runtime called cwa_main instead of the --invoke export"));
            }
        }
        return 0;
    }
    return run_cases(run);
}

__attribute__((export_name("conformance_invoke"))) int32_t conformance_invoke(void) {
    return run_cases(TERN_LIT("invoke"));
}

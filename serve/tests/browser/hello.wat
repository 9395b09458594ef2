;; hello.wat — the browser test's CGI handler: logs one line and answers with its version.
;; run.sh deploys it as version 1, and with "version 1" replaced by "version 2" as version 2.
(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "log_write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Content-Type: text/plain\n\nHello from version 1\n")
  (data (i32.const 64) "greeted")
  (func (export "_start")
    (call $log (i32.const 6) (i32.const 64) (i32.const 7))
    (drop (call $write (call $stdout) (i32.const 0) (i32.const 47)))))

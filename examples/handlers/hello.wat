;; hello.wat — the smallest CGI handler, on the stream ABI (cwa).
;;
;;   tern serve examples/handlers/hello.wat      then   curl http://127.0.0.1:8080/anything
;;   -> Hello from tern! You asked for /anything
;;
;; It writes a CGI response to stdout: header lines, a blank line, then the body. The request's
;; path is in the environment as PATH_INFO (see abi/ABI.md, "CGI").
(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "env_get" (func $env_get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Content-Type: text/plain; charset=utf-8\n\nHello from tern! You asked for ")
  (data (i32.const 128) "PATH_INFO")
  (data (i32.const 144) "\n")
  (func (export "_start")
    (local $out i32)
    (local $n i32)
    (local.set $out (call $stdout))
    (drop (call $write (local.get $out) (i32.const 0) (i32.const 72)))
    ;; PATH_INFO goes to offset 1024; a missing or over-long one (-4, or > 4096) prints as "/".
    (local.set $n (call $env_get (i32.const 128) (i32.const 9) (i32.const 1024) (i32.const 4096)))
    (if (i32.and (i32.gt_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 4096)))
      (then (drop (call $write (local.get $out) (i32.const 1024) (local.get $n))))
      (else
        (i32.store8 (i32.const 1024) (i32.const 47))
        (drop (call $write (local.get $out) (i32.const 1024) (i32.const 1)))))
    (drop (call $write (local.get $out) (i32.const 144) (i32.const 1)))))

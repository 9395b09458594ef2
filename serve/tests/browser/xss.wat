;; xss.wat — a CGI handler whose log lines and body are HTML that would run script if a page
;; inserted them as markup. The dashboard must show them as text (serve/tests/browser/run.sh).
(module
  (import "cwa" "io_get_stdout" (func $stdout (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "log_write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<script>window.__xss=1</script>")
  (data (i32.const 64) "<img src=x onerror=window.__xss=2>")
  (data (i32.const 128) "Content-Type: text/html\n\n")
  (func (export "_start")
    (call $log (i32.const 6) (i32.const 0) (i32.const 31))
    (call $log (i32.const 6) (i32.const 64) (i32.const 34))
    (drop (call $write (call $stdout) (i32.const 128) (i32.const 25)))
    (drop (call $write (call $stdout) (i32.const 0) (i32.const 31)))
    (drop (call $write (call $stdout) (i32.const 64) (i32.const 34)))))

;; spin.wat — loops forever, for the fuel and timeout traps:
;;   tern run --fuel 100000 spin.wat   -> exit 134 (out of fuel)
;;   tern run --timeout 500ms spin.wat -> exit 124 (timeout)
(module
  (func (export "_start")
    (loop $forever (br $forever))))

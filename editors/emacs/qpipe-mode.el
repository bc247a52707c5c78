;;; qpipe-mode.el --- Major mode for qpipe recipes; Generated from the stdlib signatures by `go generate ./editors` (editors/gen); do not edit. -*- lexical-binding: t -*-

;; Keywords: languages
;; Package-Requires: ((emacs "27.1"))

;;; Commentary:

;; Highlighting, comments and indentation for .qpipe recipes, and an
;; eglot entry that starts `qpipe lsp' for diagnostics, hover, completion
;; and formatting.  Load it with:
;;
;;   (add-to-list 'load-path "/path/to/qpipe/editors/emacs")
;;   (require 'qpipe-mode)

;;; Code:

(defgroup qpipe nil
  "Editing qpipe recipes."
  :group 'languages)

(defcustom qpipe-indent-offset 2
  "Indentation of a statement inside a repeat or for block."
  :type 'integer)

(defconst qpipe-verbs
  '("adapt" "adcorda" "correct" "data" "distill" "evaluate" "export"
    "finetune" "model" "prune" "quantize" "replace" "snapshot" "train")
  "Verbs of the standard library.")

(defconst qpipe-keywords
  '("and" "expect" "for" "in" "let" "or" "repeat")
  "Words of the language itself.")

(defconst qpipe-arguments
  '("activation_bits" "activations" "alpha" "attacks" "augment"
    "baseline" "batch" "batches" "beta" "bits" "budget" "calibrate"
    "classes" "corruptions" "ema" "epochs" "eps" "first_last_bits"
    "from" "iterations" "keep_uncorrected" "lambda" "lr" "max_size"
    "method" "mode" "momentum" "normalize" "opset" "optimizer"
    "pgd_steps" "progressive" "ratio" "representation" "runs" "samples"
    "schedule" "scope" "seed" "severity" "shift" "step_size" "steps"
    "structured" "subset" "teacher" "temperature" "val_split" "warmup"
    "weight_decay" "weights")
  "Argument names, highlighted before their `='.")

(defconst qpipe-words
  '("accuracy" "adamw" "auto" "brightness" "checkpoint" "cifar10"
    "cifar100" "cnn" "constant" "contrast" "cosine" "defocus_blur"
    "dequantized" "digits" "elastic" "false" "fashion-mnist" "fgsm"
    "fog" "gaussian_noise" "gelu" "gelu_tanh" "global" "hardswish" "idx"
    "imagefolder" "impulse_noise" "int8" "jpeg" "latency" "layer"
    "leaky_relu" "log2" "lsq" "magnitude" "minmax" "mlp" "mnist"
    "motion_blur" "mse" "none" "npy" "onnx" "original" "per_channel"
    "per_tensor" "percentile" "pgd" "pixelate" "previous" "ptq" "qat"
    "qdq" "relu" "relu6" "resnet20" "robustness" "rotation"
    "safetensors" "sgd" "shot_noise" "sigmoid" "silu" "size" "stage"
    "step" "swin-micro" "tanh" "true" "uniform" "vit-tiny" "with")
  "Variant words, fixed words and enum values.")

(defvar qpipe-font-lock-keywords
  `((,(concat "\\(?:^\\|[;{]\\)[ \t]*\\(" (regexp-opt qpipe-verbs) "\\)\\_>")
     1 font-lock-builtin-face)
    (,(concat "\\_<" (regexp-opt qpipe-keywords) "\\_>") . font-lock-keyword-face)
    (,(concat "\\_<\\(" (regexp-opt qpipe-arguments) "\\)=[^=]")
     1 font-lock-variable-name-face)
    (,(concat "\\_<" (regexp-opt qpipe-words) "\\_>") . font-lock-constant-face)
    ("\\_<[0-9]+\\(?:\\.[0-9]+\\)?\\(?:[eE][-+]?[0-9]+\\)?\\(?:%\\|[A-DF-Za-df-z][A-Za-z]*\\)?"
     . font-lock-constant-face))
  "Highlighting for `qpipe-mode'.")

(defvar qpipe-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?# "<" table)
    (modify-syntax-entry ?\n ">" table)
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?\\ "\\" table)
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?- "_" table)
    (dolist (c '(?= ?< ?> ?+ ?* ?/ ?% ?& ?| ?, ?\; ?. ?'))
      (modify-syntax-entry c "." table))
    table)
  "Syntax table for `qpipe-mode'.")

(defun qpipe-indent-line ()
  "Indent the current line by its depth in braces and brackets."
  (interactive)
  (let* ((depth (save-excursion
                  (back-to-indentation)
                  (car (syntax-ppss))))
         (closing (save-excursion
                    (back-to-indentation)
                    (looking-at "[]})]")))
         (col (* qpipe-indent-offset (max 0 (- depth (if closing 1 0))))))
    (if (<= (current-column) (current-indentation))
        (indent-line-to col)
      (save-excursion (indent-line-to col)))))

;;;###autoload
(define-derived-mode qpipe-mode prog-mode "qpipe"
  "Major mode for qpipe compression recipes."
  :syntax-table qpipe-mode-syntax-table
  (setq-local comment-start "# ")
  (setq-local comment-start-skip "#+[ \t]*")
  (setq-local comment-end "")
  (setq-local indent-line-function #'qpipe-indent-line)
  (setq-local font-lock-defaults '(qpipe-font-lock-keywords)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.qpipe\\'" . qpipe-mode))

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs '(qpipe-mode "qpipe" "lsp")))

(provide 'qpipe-mode)
;;; qpipe-mode.el ends here

" Generated from the stdlib signatures by `go generate ./editors` (editors/gen); do not edit.
" Vim syntax file for qpipe compression recipes (*.qpipe).
if exists('b:current_syntax')
  finish
endif

syn case match
" Names may hold '-', as in swin-micro.
syn iskeyword @,48-57,_,192-255,-

syn keyword qpipeKeyword and expect for in let or repeat
syn match qpipeWord /\<\%(gaussian_noise\|fashion-mnist\|impulse_noise\|defocus_blur\|dequantized\|imagefolder\|motion_blur\|per_channel\|safetensors\|brightness\|checkpoint\|leaky_relu\|per_tensor\|percentile\|robustness\|shot_noise\|swin-micro\|gelu_tanh\|hardswish\|magnitude\|accuracy\|cifar100\|constant\|contrast\|original\|pixelate\|previous\|resnet20\|rotation\|vit-tiny\|cifar10\|elastic\|latency\|sigmoid\|uniform\|cosine\|digits\|global\|minmax\|adamw\|false\|layer\|mnist\|relu6\|stage\|auto\|fgsm\|gelu\|int8\|jpeg\|log2\|none\|onnx\|relu\|silu\|size\|step\|tanh\|true\|with\|cnn\|fog\|idx\|lsq\|mlp\|mse\|npy\|pgd\|ptq\|qat\|qdq\|sgd\)\>/
syn match qpipeVerb /\%(^\|[;{]\)\s*\zs\<\%(evaluate\|finetune\|quantize\|snapshot\|adcorda\|correct\|distill\|replace\|export\|adapt\|model\|prune\|train\|data\)\>/
syn match qpipeArg /\<\%(keep_uncorrected\|activation_bits\|first_last_bits\|representation\|weight_decay\|activations\|corruptions\|progressive\|temperature\|iterations\|structured\|calibrate\|normalize\|optimizer\|pgd_steps\|step_size\|val_split\|baseline\|max_size\|momentum\|schedule\|severity\|attacks\|augment\|batches\|classes\|samples\|teacher\|weights\|budget\|epochs\|lambda\|method\|subset\|warmup\|alpha\|batch\|opset\|ratio\|scope\|shift\|steps\|beta\|bits\|from\|mode\|runs\|seed\|ema\|eps\|lr\)\ze=[^=]/
syn match qpipeNumber /\<\d\+\%(\.\d\+\)\=\%([eE][-+]\=\d\+\)\=\%([A-DF-Za-df-z][A-Za-z]*\)\=/
syn match qpipePercent /\<\d\+\%(\.\d\+\)\=\%([eE][-+]\=\d\+\)\=%/
syn match qpipeOperator /==\|!=\|<=\|>=\|\.\.\|[-+*\/<>]/
syn region qpipeString start=/"/ skip=/\\./ end=/"/ oneline
syn keyword qpipeTodo contained TODO FIXME XXX NOTE
syn match qpipeComment /#.*$/ contains=qpipeTodo
syn match qpipeBrace /[{}\[\]()]/

hi def link qpipeKeyword Keyword
hi def link qpipeVerb Statement
hi def link qpipeArg Identifier
hi def link qpipeWord Constant
hi def link qpipeNumber Number
hi def link qpipePercent Number
hi def link qpipeOperator Operator
hi def link qpipeString String
hi def link qpipeTodo Todo
hi def link qpipeComment Comment
hi def link qpipeBrace Delimiter

let b:current_syntax = 'qpipe'

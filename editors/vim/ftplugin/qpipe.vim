" Vim filetype plugin for qpipe compression recipes.
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:#
setlocal iskeyword=@,48-57,_,192-255,-
setlocal shiftwidth=2 softtabstop=2 expandtab
" gq formats with the canonical printer, reading the buffer on stdin.
setlocal formatprg=qpipe\ fmt

let b:undo_ftplugin = 'setlocal commentstring< comments< iskeyword< shiftwidth< softtabstop< expandtab< formatprg<'

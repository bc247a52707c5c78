" qpipe recipes: *.qpipe
autocmd BufNewFile,BufRead *.qpipe setfiletype qpipe

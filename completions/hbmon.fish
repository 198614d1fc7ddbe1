complete --keep-order --exclusive --command hbmon --arguments "(COMPLETE=fish hbmon -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"

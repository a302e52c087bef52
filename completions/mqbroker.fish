complete -c mqbroker -s p -l port -d 'Port to listen on; repeatable; 0 picks a free port (printed when ready)' -r
complete -c mqbroker -l bind -d 'Address to listen on; repeatable [default: 127.0.0.1 and ::1]' -r
complete -c mqbroker -s c -l config-file -d 'Read this mosquitto.conf-style file (its `listener` lines replace -p and --bind)' -r -F
complete -c mqbroker -l generate -d 'Print the man page or a shell completion script and exit' -r -f -a "man\t'The roff man page'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c mqbroker -l test-config -d 'Check the configuration file and exit (0 when it is valid)'
complete -c mqbroker -s v -l verbose -d 'Log every connection and packet, like `mosquitto -v`'
complete -c mqbroker -l help -d 'Print help'
complete -c mqbroker -l version -d 'Print version'

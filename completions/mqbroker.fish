# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mqbroker_global_optspecs
    string join \n p/port= bind= c/config-file= test-config generate= v/verbose help version
end

function __fish_mqbroker_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mqbroker_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mqbroker_using_subcommand
    set -l cmd (__fish_mqbroker_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mqbroker -n "__fish_mqbroker_needs_command" -s p -l port -d 'Port to listen on; repeatable; 0 picks a free port (printed when ready)' -r
complete -c mqbroker -n "__fish_mqbroker_needs_command" -l bind -d 'Address to listen on; repeatable [default: 127.0.0.1 and ::1]' -r
complete -c mqbroker -n "__fish_mqbroker_needs_command" -s c -l config-file -d 'Read this mosquitto.conf-style file, see mqbroker.conf(5) (its `listener` lines replace -p and --bind)' -r -F
complete -c mqbroker -n "__fish_mqbroker_needs_command" -l generate -d 'Print the man page or a shell completion script and exit' -r -f -a "man\t'The roff man page'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c mqbroker -n "__fish_mqbroker_needs_command" -l test-config -d 'Check the configuration file and exit (0 when it is valid)'
complete -c mqbroker -n "__fish_mqbroker_needs_command" -s v -l verbose -d 'Log every connection and packet, like `mosquitto -v` (log_type all; RUST_LOG overrides)'
complete -c mqbroker -n "__fish_mqbroker_needs_command" -l help -d 'Print help'
complete -c mqbroker -n "__fish_mqbroker_needs_command" -l version -d 'Print version'
complete -c mqbroker -n "__fish_mqbroker_needs_command" -f -a "passwd" -d 'Add, update or delete a user of a password file, as mosquitto_passwd does (the file works with mosquitto too)'
complete -c mqbroker -n "__fish_mqbroker_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand passwd" -s I -d 'PBKDF2 iterations of the new hash' -r
complete -c mqbroker -n "__fish_mqbroker_using_subcommand passwd" -s c -d 'Create the file, replacing it if it exists'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand passwd" -s b -d 'Take the password from the command line instead of prompting for it'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand passwd" -s D -d 'Delete the user'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand passwd" -l help -d 'Print help'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand help; and not __fish_seen_subcommand_from passwd help" -f -a "passwd" -d 'Add, update or delete a user of a password file, as mosquitto_passwd does (the file works with mosquitto too)'
complete -c mqbroker -n "__fish_mqbroker_using_subcommand help; and not __fish_seen_subcommand_from passwd help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

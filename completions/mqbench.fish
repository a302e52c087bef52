# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mqbench_global_optspecs
    string join \n generate= help version
end

function __fish_mqbench_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mqbench_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mqbench_using_subcommand
    set -l cmd (__fish_mqbench_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mqbench -n "__fish_mqbench_needs_command" -l generate -d 'Print the man page or a shell completion script and exit' -r -f -a "man\t'The roff man page'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c mqbench -n "__fish_mqbench_needs_command" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_needs_command" -l version -d 'Print version'
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "pubsub" -d 'Publishers and subscribers in one run: throughput in and out, end-to-end latency, loss, duplicates and reordering'
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s h -l host -d 'Server host(s), comma-separated: connections are spread over them round-robin (for clusters). None: start the embedded broker on a free loopback port' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s p -l port -d 'Port [default: 1883, or 8883 with TLS]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s V -l protocol-version -d 'MQTT version: 31, 311 or 5' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s u -l username -d 'User name' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s P -l pw -d 'Password (see also MQKIT_PASSWORD)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s I -l id-prefix -d 'Client id prefix; ids are PREFIX + pub-N / sub-N' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s k -l keepalive -d 'Keep alive in seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l psk -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l psk-identity -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l keyform -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-engine -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-engine-kpass-sha1 -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l proxy -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l pubs -d 'Publisher connections' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l subs -d 'Subscriber connections (each receives every message)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s t -l topic -d 'Publish topic; %i is the publisher\'s index' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l filter -d 'The subscribers\' filter; it must match every publisher\'s topic' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s q -l qos -d 'QoS of publishes and subscriptions' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s s -l size -d 'Payload size in bytes (at least 20: the stamp)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s r -l rate -d 'Total publish rate in msg/s over all publishers [default: as fast as possible]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s d -l duration -d 'How long to publish (e.g. 30s, 2m), warm-up included' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l warmup -d 'The first part of the run whose latencies are not recorded' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s L -l limit -d 'Messages per publisher at most' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s F -l inflight -d 'QoS 1/2 messages in flight per publisher' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l drain -d 'How long subscribers wait for missing messages after the publishers stop' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l json-out -d 'Also write the JSON report to this file' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l max-p99 -d 'Fail (exit 1) when the p99 end-to-end latency is above this (e.g. 2ms)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l min-rate -d 'Fail when fewer messages per second are delivered' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l max-loss -d 'Fail when more deliveries than this are lost' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l threads -d 'Worker threads [default: one per core]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l ws -d 'Use MQTT over WebSockets (path /mqtt)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l json -d 'Print the report as one JSON document instead of a table'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s v -l verbose -d 'Print one progress line per second on stderr even when it is not a terminal'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub help" -f -a "pubsub" -d 'Publishers and subscribers in one run: throughput in and out, end-to-end latency, loss, duplicates and reordering'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

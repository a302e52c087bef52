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
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "pub" -d 'Publishers only (--subs is ignored): publish rate and publish-to-ack latency'
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "sub" -d 'Subscribers only (--pubs, --rate and --limit are ignored) for --duration: what arrives, its latency when mqbench publishers on this machine stamped it, and gaps in their sequences'
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "conn" -d 'Open connections at a rate and hold them, or churn (connect/disconnect cycles): connects per second, CONNACK latency percentiles, failures by reason'
complete -c mqbench -n "__fish_mqbench_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s h -l host -d 'Server host(s), comma-separated: connections are spread over them round-robin (for clusters). None: start the embedded broker on a free loopback port' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l url -d 'Server URL(s), comma-separated, instead of -h/-p (-L is --limit, as in emqtt-bench): mqtt://, mqtts://, ws://host:port/path, wss://...; connections are spread over them round-robin' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s p -l port -d 'Port [default: 1883, or 8883 with TLS]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s V -l protocol-version -d 'MQTT version: 31, 311 or 5' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s u -l username -d 'User name' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s P -l pw -d 'Password (see also MQKIT_PASSWORD)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s I -l id-prefix -d 'Client id prefix; ids are PREFIX + pub-N / sub-N' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s k -l keepalive -d 'Keep alive in seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s x -l session-expiry -d 'MQTT 5 session expiry interval, seconds' -r
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
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s t -l topic -d 'Publish topic; %i is the publisher\'s index, %c its client id, %u the user name, %s the message\'s sequence number' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l filter -d 'The subscribers\' filter; it must match every publisher\'s topic. With $share/GROUP/... each message is expected once for the whole group' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s q -l qos -d 'QoS of publishes and subscriptions' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s s -l size -d 'Payload size in bytes (at least 20: the stamp)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l payload-file -d 'Payload: mqbench\'s 20-byte stamp followed by this file\'s contents (instead of --size)' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s r -l rate -d 'Total publish rate in msg/s over all publishers [default: as fast as possible]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l rate-per-client -d 'Rate per publisher in msg/s (the total is this times --pubs); instead of --rate' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s R -l connect-rate -d 'Open the publishers\' and subscribers\' connections at this rate (per second) before the run [default: one after another]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s d -l duration -d 'How long to publish (e.g. 30s, 2m), warm-up included' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l warmup -d 'The first part of the run whose latencies are not recorded' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s L -l limit -d 'Messages per publisher at most' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s F -l inflight -d 'QoS 1/2 messages in flight per publisher' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l drain -d 'How long subscribers wait for missing messages after the publishers stop' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l json-out -d 'Also write the JSON report to this file' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l max-p99 -d 'Fail (exit 1) when the p99 latency is above this (e.g. 2ms)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l min-rate -d 'Fail when the rate (deliveries, or connections, per second) is lower' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l max-loss -d 'Fail when more deliveries are lost (or connections fail) than this' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l threads -d 'Worker threads [default: one per core]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l ws -d 'Use MQTT over WebSockets (path /mqtt)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l persistent -d 'Keep sessions (Clean Start 0); with MQTT 5 they then expire after --session-expiry'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l retain -d 'Publish with the retain flag'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l json -d 'Print the report as one JSON document instead of a table'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -s v -l verbose -d 'Print one progress line per second on stderr even when it is not a terminal'
complete -c mqbench -n "__fish_mqbench_using_subcommand pubsub" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s h -l host -d 'Server host(s), comma-separated: connections are spread over them round-robin (for clusters). None: start the embedded broker on a free loopback port' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l url -d 'Server URL(s), comma-separated, instead of -h/-p (-L is --limit, as in emqtt-bench): mqtt://, mqtts://, ws://host:port/path, wss://...; connections are spread over them round-robin' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s p -l port -d 'Port [default: 1883, or 8883 with TLS]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s V -l protocol-version -d 'MQTT version: 31, 311 or 5' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s u -l username -d 'User name' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s P -l pw -d 'Password (see also MQKIT_PASSWORD)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s I -l id-prefix -d 'Client id prefix; ids are PREFIX + pub-N / sub-N' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s k -l keepalive -d 'Keep alive in seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s x -l session-expiry -d 'MQTT 5 session expiry interval, seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l psk -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l psk-identity -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l keyform -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l tls-engine -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l tls-engine-kpass-sha1 -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l proxy -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l pubs -d 'Publisher connections' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l subs -d 'Subscriber connections (each receives every message)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s t -l topic -d 'Publish topic; %i is the publisher\'s index, %c its client id, %u the user name, %s the message\'s sequence number' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l filter -d 'The subscribers\' filter; it must match every publisher\'s topic. With $share/GROUP/... each message is expected once for the whole group' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s q -l qos -d 'QoS of publishes and subscriptions' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s s -l size -d 'Payload size in bytes (at least 20: the stamp)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l payload-file -d 'Payload: mqbench\'s 20-byte stamp followed by this file\'s contents (instead of --size)' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s r -l rate -d 'Total publish rate in msg/s over all publishers [default: as fast as possible]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l rate-per-client -d 'Rate per publisher in msg/s (the total is this times --pubs); instead of --rate' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s R -l connect-rate -d 'Open the publishers\' and subscribers\' connections at this rate (per second) before the run [default: one after another]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s d -l duration -d 'How long to publish (e.g. 30s, 2m), warm-up included' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l warmup -d 'The first part of the run whose latencies are not recorded' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s L -l limit -d 'Messages per publisher at most' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s F -l inflight -d 'QoS 1/2 messages in flight per publisher' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l drain -d 'How long subscribers wait for missing messages after the publishers stop' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l json-out -d 'Also write the JSON report to this file' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l max-p99 -d 'Fail (exit 1) when the p99 latency is above this (e.g. 2ms)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l min-rate -d 'Fail when the rate (deliveries, or connections, per second) is lower' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l max-loss -d 'Fail when more deliveries are lost (or connections fail) than this' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l threads -d 'Worker threads [default: one per core]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l ws -d 'Use MQTT over WebSockets (path /mqtt)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l persistent -d 'Keep sessions (Clean Start 0); with MQTT 5 they then expire after --session-expiry'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l retain -d 'Publish with the retain flag'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l json -d 'Print the report as one JSON document instead of a table'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -s v -l verbose -d 'Print one progress line per second on stderr even when it is not a terminal'
complete -c mqbench -n "__fish_mqbench_using_subcommand pub" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s h -l host -d 'Server host(s), comma-separated: connections are spread over them round-robin (for clusters). None: start the embedded broker on a free loopback port' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l url -d 'Server URL(s), comma-separated, instead of -h/-p (-L is --limit, as in emqtt-bench): mqtt://, mqtts://, ws://host:port/path, wss://...; connections are spread over them round-robin' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s p -l port -d 'Port [default: 1883, or 8883 with TLS]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s V -l protocol-version -d 'MQTT version: 31, 311 or 5' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s u -l username -d 'User name' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s P -l pw -d 'Password (see also MQKIT_PASSWORD)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s I -l id-prefix -d 'Client id prefix; ids are PREFIX + pub-N / sub-N' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s k -l keepalive -d 'Keep alive in seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s x -l session-expiry -d 'MQTT 5 session expiry interval, seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l psk -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l psk-identity -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l keyform -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l tls-engine -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l tls-engine-kpass-sha1 -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l proxy -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l pubs -d 'Publisher connections' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l subs -d 'Subscriber connections (each receives every message)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s t -l topic -d 'Publish topic; %i is the publisher\'s index, %c its client id, %u the user name, %s the message\'s sequence number' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l filter -d 'The subscribers\' filter; it must match every publisher\'s topic. With $share/GROUP/... each message is expected once for the whole group' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s q -l qos -d 'QoS of publishes and subscriptions' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s s -l size -d 'Payload size in bytes (at least 20: the stamp)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l payload-file -d 'Payload: mqbench\'s 20-byte stamp followed by this file\'s contents (instead of --size)' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s r -l rate -d 'Total publish rate in msg/s over all publishers [default: as fast as possible]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l rate-per-client -d 'Rate per publisher in msg/s (the total is this times --pubs); instead of --rate' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s R -l connect-rate -d 'Open the publishers\' and subscribers\' connections at this rate (per second) before the run [default: one after another]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s d -l duration -d 'How long to publish (e.g. 30s, 2m), warm-up included' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l warmup -d 'The first part of the run whose latencies are not recorded' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s L -l limit -d 'Messages per publisher at most' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s F -l inflight -d 'QoS 1/2 messages in flight per publisher' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l drain -d 'How long subscribers wait for missing messages after the publishers stop' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l json-out -d 'Also write the JSON report to this file' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l max-p99 -d 'Fail (exit 1) when the p99 latency is above this (e.g. 2ms)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l min-rate -d 'Fail when the rate (deliveries, or connections, per second) is lower' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l max-loss -d 'Fail when more deliveries are lost (or connections fail) than this' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l threads -d 'Worker threads [default: one per core]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l ws -d 'Use MQTT over WebSockets (path /mqtt)'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l persistent -d 'Keep sessions (Clean Start 0); with MQTT 5 they then expire after --session-expiry'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l retain -d 'Publish with the retain flag'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l json -d 'Print the report as one JSON document instead of a table'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -s v -l verbose -d 'Print one progress line per second on stderr even when it is not a terminal'
complete -c mqbench -n "__fish_mqbench_using_subcommand sub" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s h -l host -d 'Server host(s), comma-separated: connections are spread over them round-robin (for clusters). None: start the embedded broker on a free loopback port' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l url -d 'Server URL(s), comma-separated, instead of -h/-p (-L is --limit, as in emqtt-bench): mqtt://, mqtts://, ws://host:port/path, wss://...; connections are spread over them round-robin' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s p -l port -d 'Port [default: 1883, or 8883 with TLS]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s V -l protocol-version -d 'MQTT version: 31, 311 or 5' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s u -l username -d 'User name' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s P -l pw -d 'Password (see also MQKIT_PASSWORD)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s I -l id-prefix -d 'Client id prefix; ids are PREFIX + pub-N / sub-N' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s k -l keepalive -d 'Keep alive in seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s x -l session-expiry -d 'MQTT 5 session expiry interval, seconds' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l psk -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l psk-identity -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l keyform -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l tls-engine -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l tls-engine-kpass-sha1 -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l proxy -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s c -l count -d 'Connections to open and hold' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s R -l rate -d 'Connection attempts per second [default: as fast as possible]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l hold -d 'How long to hold the connections once all are open' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s d -l duration -d 'How long to churn' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l json-out -d 'Also write the JSON report to this file' -r -F
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l max-p99 -d 'Fail (exit 1) when the p99 latency is above this (e.g. 2ms)' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l min-rate -d 'Fail when the rate (deliveries, or connections, per second) is lower' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l max-loss -d 'Fail when more deliveries are lost (or connections fail) than this' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l threads -d 'Worker threads [default: one per core]' -r
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l ws -d 'Use MQTT over WebSockets (path /mqtt)'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l persistent -d 'Keep sessions (Clean Start 0); with MQTT 5 they then expire after --session-expiry'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l churn -d 'Connect and disconnect at --rate for --duration instead of holding'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l json -d 'Print the report as one JSON document instead of a table'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -s v -l verbose -d 'Print one progress line per second on stderr even when it is not a terminal'
complete -c mqbench -n "__fish_mqbench_using_subcommand conn" -l help -d 'Print help'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub pub sub conn help" -f -a "pubsub" -d 'Publishers and subscribers in one run: throughput in and out, end-to-end latency, loss, duplicates and reordering'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub pub sub conn help" -f -a "pub" -d 'Publishers only (--subs is ignored): publish rate and publish-to-ack latency'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub pub sub conn help" -f -a "sub" -d 'Subscribers only (--pubs, --rate and --limit are ignored) for --duration: what arrives, its latency when mqbench publishers on this machine stamped it, and gaps in their sequences'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub pub sub conn help" -f -a "conn" -d 'Open connections at a rate and hold them, or churn (connect/disconnect cycles): connects per second, CONNACK latency percentiles, failures by reason'
complete -c mqbench -n "__fish_mqbench_using_subcommand help; and not __fish_seen_subcommand_from pubsub pub sub conn help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

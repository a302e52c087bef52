complete -c mqsub -s h -l host -d 'MQTT host to connect to' -r
complete -c mqsub -s p -l port -d 'Network port [default: 1883, or 8883 with TLS]' -r
complete -c mqsub -s L -l url -d 'mqtt(s)://[user[:pass]@]host[:port]/topic or ws(s)://[user[:pass]@]host[:port]/path' -r
complete -c mqsub -l unix -d 'Connect through a Unix domain socket instead of TCP' -r -F
complete -c mqsub -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mqsub -s V -l protocol-version -d 'MQTT version: 31, 311 or 5 (also mqttv31, mqttv311, mqttv5) [default: 311, or 5 with -D]' -r
complete -c mqsub -s i -l id -d 'Client id [default: random for MQTT 3, empty (assigned by the server) for MQTT 5]' -r
complete -c mqsub -s I -l id-prefix -d 'Client id = this prefix followed by the process id' -r
complete -c mqsub -s k -l keepalive -d 'Keep alive in seconds (0 = off)' -r
complete -c mqsub -s x -l session-expiry-interval -d 'MQTT 5 session expiry interval in seconds; -1, 4294967295 or ∞ = never' -r
complete -c mqsub -s M -d 'Maximum QoS 1 and 2 messages in flight at once' -r
complete -c mqsub -s q -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c mqsub -s u -l username -d 'User name' -r
complete -c mqsub -s P -l pw -d 'Password; with no value, asked for on the terminal (see also --pw-file, MQKIT_PASSWORD)' -r
complete -c mqsub -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mqsub -s D -l property -d 'MQTT 5 property: -D CMD NAME VALUE, or -D CMD user-property KEY VALUE; repeatable' -r
complete -c mqsub -l encoding -d 'How -m, -f, -s, -l payloads and binary -D values are given' -r -f -a "utf8\t'The bytes as given'
hex\t'Hexadecimal digits, two per byte (whitespace ignored)'
base64\t'Standard base64 (padding optional, whitespace ignored)'"
complete -c mqsub -l will-topic -d 'Topic of the will message' -r
complete -c mqsub -l will-payload -d 'Payload of the will message [default: empty]' -r
complete -c mqsub -l will-qos -d 'QoS of the will message' -r
complete -c mqsub -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqsub -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqsub -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqsub -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqsub -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqsub -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqsub -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqsub -l psk -r
complete -c mqsub -l psk-identity -r
complete -c mqsub -l keyform -r
complete -c mqsub -l tls-engine -r
complete -c mqsub -l tls-engine-kpass-sha1 -r
complete -c mqsub -l proxy -r
complete -c mqsub -s o -l options-file -d 'Read default options from this file instead of ~/.config/<tool>' -r -F
complete -c mqsub -s t -l topic -d 'Topic filter to subscribe to; repeatable' -r
complete -c mqsub -s T -l filter-out -d 'Do not print (or count) messages matching this filter; repeatable' -r
complete -c mqsub -s U -l unsubscribe -d 'Unsubscribe from this filter after subscribing (for persistent sessions); repeatable' -r
complete -c mqsub -s C -d 'Exit after printing this many messages' -r
complete -c mqsub -s W -d 'Exit after this many seconds (status 27 when it expires)' -r
complete -c mqsub -l random-filter -d 'Print only this percentage (0.1 to 100) of the messages, picked at random' -r
complete -c mqsub -s F -d 'Output format, mosquitto_sub\'s -F language (%t topic, %p payload, %j JSON, @H time...)' -r
complete -c mqsub -l color -l colour -d 'Colour the topic of -v output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On when stdout is a terminal and NO_COLOR is not set'
always\t'Always'
never\t'Never'"
complete -c mqsub -l generate -d 'Print the man page or a shell completion script and exit' -r -f -a "man\t'The roff man page'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c mqsub -l ws -d 'Use MQTT over WebSockets (path /mqtt unless a ws:// URL gives one)'
complete -c mqsub -l nodelay -d 'Disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c mqsub -s c -l disable-clean-session -d 'Keep the session when disconnected (needs -i); MQTT 5: it never expires unless -x'
complete -c mqsub -l will-retain -d 'Retain the will message'
complete -c mqsub -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqsub -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqsub -s d -l debug -d 'Print every packet sent and received (to stderr)'
complete -c mqsub -l quiet -d 'Print no error messages at run time (argument errors are still printed)'
complete -c mqsub -s E -d 'Exit as soon as the subscription is acknowledged'
complete -c mqsub -s R -d 'Do not print retained ("stale") messages; MQTT 5: ask the server not to send them'
complete -c mqsub -l retained-only -d 'Print only retained messages; exit at the first message that is not retained'
complete -c mqsub -l remove-retained -d 'Clear every retained message received (publish an empty retained message)'
complete -c mqsub -l retain-as-published -d 'MQTT 5: keep the retain flag as published (Retain As Published)'
complete -c mqsub -l no-local -d 'MQTT 5: do not receive the messages this client publishes (No Local)'
complete -c mqsub -s v -l verbose -d 'Print the topic before the payload'
complete -c mqsub -s N -d 'Do not end each message with a newline'
complete -c mqsub -l pretty -d 'Indent the JSON of %j and %J'
complete -c mqsub -l json -d 'One JSON object per message (JSON Lines); binary payloads as base64'
complete -c mqsub -l help -d 'Print help'
complete -c mqsub -l version -d 'Print version'

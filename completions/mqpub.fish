complete -c mqpub -s h -l host -d 'MQTT host to connect to' -r
complete -c mqpub -s p -l port -d 'Network port [default: 1883, or 8883 with TLS]' -r
complete -c mqpub -s L -l url -d 'mqtt(s)://[user[:pass]@]host[:port]/topic or ws(s)://[user[:pass]@]host[:port]/path' -r
complete -c mqpub -l unix -d 'Connect through a Unix domain socket instead of TCP' -r -F
complete -c mqpub -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mqpub -s V -l protocol-version -d 'MQTT version: 31, 311 or 5 (also mqttv31, mqttv311, mqttv5) [default: 311, or 5 with -D]' -r
complete -c mqpub -s i -l id -d 'Client id [default: random for MQTT 3, empty (assigned by the server) for MQTT 5]' -r
complete -c mqpub -s I -l id-prefix -d 'Client id = this prefix followed by the process id' -r
complete -c mqpub -s k -l keepalive -d 'Keep alive in seconds (0 = off)' -r
complete -c mqpub -s x -l session-expiry-interval -d 'MQTT 5 session expiry interval in seconds; -1, 4294967295 or ∞ = never' -r
complete -c mqpub -s M -d 'Maximum QoS 1 and 2 messages in flight at once' -r
complete -c mqpub -s q -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c mqpub -s u -l username -d 'User name' -r
complete -c mqpub -s P -l pw -d 'Password; with no value, asked for on the terminal (see also --pw-file, MQKIT_PASSWORD)' -r
complete -c mqpub -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mqpub -s D -l property -d 'MQTT 5 property: -D CMD NAME VALUE, or -D CMD user-property KEY VALUE; repeatable' -r
complete -c mqpub -l encoding -d 'How -m, -f, -s, -l payloads and binary -D values are given' -r -f -a "utf8\t'The bytes as given'
hex\t'Hexadecimal digits, two per byte (whitespace ignored)'
base64\t'Standard base64 (padding optional, whitespace ignored)'"
complete -c mqpub -l will-topic -d 'Topic of the will message' -r
complete -c mqpub -l will-payload -d 'Payload of the will message [default: empty]' -r
complete -c mqpub -l will-qos -d 'QoS of the will message' -r
complete -c mqpub -l cafile -d 'Trusted CA certificates (PEM); turns on TLS' -r -F
complete -c mqpub -l capath -d 'Directory of trusted CA certificates (*.crt, *.pem); turns on TLS' -r -F
complete -c mqpub -l cert -d 'Client certificate (PEM), with --key' -r -F
complete -c mqpub -l key -d 'Client private key (PEM), with --cert' -r -F
complete -c mqpub -l tls-version -d 'Lowest TLS version: tlsv1.2 or tlsv1.3' -r
complete -c mqpub -l tls-alpn -d 'ALPN protocol to offer; repeatable' -r
complete -c mqpub -l ciphers -d 'OpenSSL options mqkit cannot honour; given, they are refused with the reason' -r
complete -c mqpub -l psk -r
complete -c mqpub -l psk-identity -r
complete -c mqpub -l keyform -r
complete -c mqpub -l tls-engine -r
complete -c mqpub -l tls-engine-kpass-sha1 -r
complete -c mqpub -l proxy -r
complete -c mqpub -s o -l options-file -d 'Read default options from this file instead of ~/.config/<tool>' -r -F
complete -c mqpub -s t -l topic -d 'Topic to publish to' -r
complete -c mqpub -s m -l message -d 'Message payload' -r
complete -c mqpub -s f -l file -d 'Send the contents of a file as the message' -r -F
complete -c mqpub -l repeat -d 'With -m, -f, -s or -n: publish the message this many times' -r
complete -c mqpub -l repeat-delay -d 'Seconds (fractions allowed) between the end of one publish and the next with --repeat' -r
complete -c mqpub -l line-format -d 'With -l: what each line is; `topic` = TOPIC<TAB>PAYLOAD, `json` = {"topic","payload", "qos","retain","properties"} per line' -r -f -a "payload\t'The payload; the topic is -t'
topic\t'TOPIC, a tab, then the payload'
json\t'A JSON object: topic, payload, optional qos, retain, payload_encoding, properties'"
complete -c mqpub -l reconnect-attempts -d 'With -l: give up on the broker after this many failed reconnections in a row (0 = keep trying)' -r
complete -c mqpub -l queue -d 'With -l: how many QoS 1/2 messages to keep while the broker is away' -r
complete -c mqpub -l generate -d 'Print the man page or a shell completion script and exit' -r -f -a "man\t'The roff man page'
bash\t'bash completion'
zsh\t'zsh completion'
fish\t'fish completion'"
complete -c mqpub -l ws -d 'Use MQTT over WebSockets (path /mqtt unless a ws:// URL gives one)'
complete -c mqpub -l nodelay -d 'Disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c mqpub -s c -l disable-clean-session -d 'Keep the session when disconnected (needs -i); MQTT 5: it never expires unless -x'
complete -c mqpub -l will-retain -d 'Retain the will message'
complete -c mqpub -l insecure -d 'Do not verify the server certificate (testing only)'
complete -c mqpub -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates (automatic for -p 8883 and mqtts://)'
complete -c mqpub -s d -l debug -d 'Print every packet sent and received (to stderr)'
complete -c mqpub -l quiet -d 'Print no error messages at run time (argument errors are still printed)'
complete -c mqpub -s s -l stdin-file -d 'Send all of standard input as one message'
complete -c mqpub -s l -l stdin-line -d 'Send one message per line of standard input, over one connection'
complete -c mqpub -s n -l null-message -d 'Send a zero-length message'
complete -c mqpub -s r -l retain -d 'Retain the message'
complete -c mqpub -l help -d 'Print help'
complete -c mqpub -l version -d 'Print version'

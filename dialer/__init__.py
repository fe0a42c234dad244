"""The dialer: call lifecycle, telephony backends (Asterisk, Twilio, simulator), caller-ID rotation.

The call state machine (`dialer.calls`) is sans-I/O; backends turn protocol traffic into its
`CallEvent` values and carry out its originate/hang-up/bridge requests.
"""

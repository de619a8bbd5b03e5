// The controller daemon: OpenFlow switch sessions, the control loop and its services.

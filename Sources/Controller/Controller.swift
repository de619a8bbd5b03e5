// Target Controller.

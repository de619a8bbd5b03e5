// Target SFlow.

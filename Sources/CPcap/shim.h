#ifndef TUSK_CPCAP_SHIM_H
#define TUSK_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif

// The RocksDB C API, exposed to Swift as the CRocksDB module.
// Only the RocksStore target imports it; everything else goes through RocksStore.
#ifndef EDDY_CROCKSDB_SHIM_H
#define EDDY_CROCKSDB_SHIM_H

#include <rocksdb/c.h>

#endif

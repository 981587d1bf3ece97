// The support functions are inline in the header; SwiftPM needs one source file per C target.
#include "eddy_support.h"

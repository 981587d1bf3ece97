#ifndef CSHIM_H
#define CSHIM_H
static inline void cs_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
#endif

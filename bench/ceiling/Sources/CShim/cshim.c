void cs_unused(void) {}

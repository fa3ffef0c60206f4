# Fails unless the flat image BIN is exactly SIZE bytes.
file(SIZE ${BIN} size)
if(NOT size EQUAL SIZE)
  message(FATAL_ERROR "${BIN}: ${size} bytes, expected ${SIZE}")
endif()

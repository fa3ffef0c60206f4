# ctest guest_demo: run the `make demo` guest example (DEMO) and check that it
# succeeded and printed the guest's console and its checked TDREPORT.
execute_process(COMMAND ${DEMO} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${DEMO} failed (${rc}):\n${out}\n${err}")
endif()
foreach(want
    "guest console | Hello from a TD: vCPU 0 in 64-bit mode, GPAW 48"
    "TDG.VP.INFO (answered inside the module): TDX_SUCCESS; GPAW 48, ATTRIBUTES 0x1"
    "vendor \"GenuineIntel\": virtualised by the module"
    "signature \"tdxsim-demo \": not virtualised by the module"
    "TDG.MEM.PAGE.ACCEPT(GPA 0x800000, 4 KiB): TDX_SUCCESS after 1 EPT violation"
    "REPORTTYPE.TYPE  0x81 (TDX)"
    "REPORTDATA       \"tdxsim demo, nonce 5eed0fdecaf\" (matches the host's nonce)"
    "(matches TDH.MNG.RD(MRTD)"
    "(matches SHA-384(48 zero bytes || the guest's event)"
    "TEE_INFO_HASH    matches SHA-384(TDINFO)"
    "the guest's report checks out"
    "guest console | Goodbye from the TD."
    "ucall DONE from guest_demo.c:")
  string(FIND "${out}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "guest demo output lacks \"${want}\":\n${out}")
  endif()
endforeach()
if(out MATCHES "MISMATCH")
  message(FATAL_ERROR "guest demo reports a mismatch:\n${out}")
endif()
if(NOT out MATCHES "([0-9]+) of ([0-9]+) pages back to PT_NDA" OR NOT CMAKE_MATCH_1 EQUAL CMAKE_MATCH_2)
  message(FATAL_ERROR "guest demo teardown left pages behind:\n${out}")
endif()

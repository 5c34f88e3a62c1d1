# OpenBLAS from the scipy-openblas32 wheel (docs/design/architecture.md, BLAS): the same build
# NumPy and SciPy use, found through its Python helper. Its symbols carry the scipy_ prefix.
execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import scipy_openblas32 as s; print(s.get_include_dir()); print(s.get_lib_dir()); print(s.get_library(fullname=True))"
  OUTPUT_VARIABLE _hetensor_blas_out
  RESULT_VARIABLE _hetensor_blas_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _hetensor_blas_rc EQUAL 0)
  message(FATAL_ERROR "hetensor needs the scipy-openblas32 wheel at build time: pip install scipy-openblas32")
endif()
string(REPLACE "\n" ";" _hetensor_blas_out "${_hetensor_blas_out}")
list(GET _hetensor_blas_out 0 HETENSOR_BLAS_INCLUDE_DIR)
list(GET _hetensor_blas_out 1 HETENSOR_BLAS_LIB_DIR)
list(GET _hetensor_blas_out 2 HETENSOR_BLAS_LIB_NAME)
message(STATUS "BLAS: scipy-openblas32 (${HETENSOR_BLAS_LIB_DIR}/${HETENSOR_BLAS_LIB_NAME})")

add_library(hetensor_blas SHARED IMPORTED GLOBAL)
set_target_properties(hetensor_blas PROPERTIES
  IMPORTED_LOCATION "${HETENSOR_BLAS_LIB_DIR}/${HETENSOR_BLAS_LIB_NAME}"
  IMPORTED_NO_SONAME TRUE
  INTERFACE_INCLUDE_DIRECTORIES "${HETENSOR_BLAS_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS "BLAS_SYMBOL_PREFIX=scipy_")
add_library(hetensor::blas ALIAS hetensor_blas)

# At run time the library lives in site-packages/scipy_openblas32/lib, beside our package.
function(hetensor_link_blas_runtime target)
  set_target_properties(${target} PROPERTIES
    INSTALL_RPATH "$ORIGIN/../scipy_openblas32/lib"
    BUILD_RPATH "${HETENSOR_BLAS_LIB_DIR}")
endfunction()

# Adds the CUDA backend to the ctrnn target (included when CTRNN_WITH_CUDA).
target_compile_definitions(ctrnn PUBLIC CTRNN_WITH_CUDA)

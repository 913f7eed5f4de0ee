#ifndef CMVLM_HDF5_SHIM_H
#define CMVLM_HDF5_SHIM_H
#include <hdf5.h>
// HDF5's type constants (H5T_NATIVE_FLOAT, ...) are macros over library globals that Swift cannot
// import; these inline functions expose them. The HDF5 module adds what it needs here.
static inline hid_t cmvlm_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t cmvlm_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t cmvlm_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t cmvlm_h5s_all(void) { return H5S_ALL; }
#endif

#ifndef CMVLM_HDF5_SHIM_H
#define CMVLM_HDF5_SHIM_H
// The part of libhdf5 that MVLMHDF5 uses, made importable by Swift.
//
// HDF5's type and property-list constants (H5T_NATIVE_FLOAT, H5P_DEFAULT, ...) are macros over
// library globals, and its versioned API names (H5Literate, H5Oget_info, H5L_info_t, ...) are
// macros that resolve to different functions and structs in 1.10, 1.12 and 1.14. Swift imports
// neither, so the inline functions below expose the constants and wrap the versioned calls; they
// compile against whichever release the system provides (Debian 12 ships 1.10.8).
#include <hdf5.h>
#include <stdint.h>
#include <string.h>

// MARK: Constants

static inline hid_t cmvlm_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t cmvlm_h5s_all(void) { return H5S_ALL; }
static inline hid_t cmvlm_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned cmvlm_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t cmvlm_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t cmvlm_h5p_link_access(void) { return H5P_LINK_ACCESS; }
static inline hid_t cmvlm_h5e_truncated(void) { return H5E_TRUNCATED; }
static inline uint64_t cmvlm_haddr_undef(void) { return (uint64_t)HADDR_UNDEF; }

static inline hid_t cmvlm_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t cmvlm_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t cmvlm_h5t_native_llong(void) { return H5T_NATIVE_LLONG; }
static inline hid_t cmvlm_h5t_native_ullong(void) { return H5T_NATIVE_ULLONG; }
static inline hid_t cmvlm_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t cmvlm_h5t_variable(void) { return H5T_VARIABLE; }

// MARK: Library set-up

/// Initializes the library and turns off its automatic printing of error stacks to stderr
/// (errors are read back with `H5Ewalk2` and reported as MVLMError instead).
static inline herr_t cmvlm_h5_initialize_quietly(void) {
    if (H5open() < 0) return -1;
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/// Turns off automatic error printing for the calling thread, once per thread. A thread-safe
/// libhdf5 build (Debian's "serial" package is one) keeps the error stack and its printing
/// setting per thread, so setting it once at initialization only silences that one thread.
static inline void cmvlm_h5_silence_errors_on_this_thread(void) {
    static _Thread_local int silenced = 0;
    if (!silenced) {
        if (H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0) silenced = 1;
    }
}

/// An external-link traversal callback that always refuses: following an external link would
/// open another file named by the (untrusted) input.
static herr_t cmvlm_h5_refuse_external_link(
    const char *parent_file_name, const char *parent_group_name, const char *child_file_name,
    const char *child_object_name, unsigned *acc_flags, hid_t fapl_id, void *op_data) {
    (void)parent_file_name; (void)parent_group_name; (void)child_file_name;
    (void)child_object_name; (void)acc_flags; (void)fapl_id; (void)op_data;
    return -1;
}

/// A link-access property list on which every external link fails to resolve.
static inline hid_t cmvlm_h5_create_link_access_without_external_links(void) {
    hid_t lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (lapl < 0) return lapl;
    if (H5Pset_elink_cb(lapl, cmvlm_h5_refuse_external_link, NULL) < 0) {
        H5Pclose(lapl);
        return -1;
    }
    return lapl;
}

/// A file-access property list for reading: default driver; where the library supports it,
/// file locking is used but ignored on file systems that do not implement it.
static inline hid_t cmvlm_h5_create_file_access(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
#if H5_VERSION_GE(1, 10, 7)
    if (H5Pset_file_locking(fapl, 1, 1) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#endif
    return fapl;
}

// MARK: Versioned calls

/// The identity of an object in its file (its header address, or its token since 1.12), as two
/// 64-bit words. Returns a negative value on failure.
static inline herr_t cmvlm_h5_object_identity(hid_t object, uint64_t identity[2]) {
    identity[0] = 0;
    identity[1] = 0;
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(object, &info, H5O_INFO_BASIC) < 0) return -1;
    memcpy(identity, &info.token, sizeof(info.token) < 16 ? sizeof(info.token) : 16);
#elif H5_VERSION_GE(1, 10, 3)
    H5O_info_t info;
    if (H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0) return -1;
    identity[0] = (uint64_t)info.addr;
#else
    H5O_info_t info;
    if (H5Oget_info(object, &info) < 0) return -1;
    identity[0] = (uint64_t)info.addr;
#endif
    return 0;
}

/// Called once per link of a group: its name and whether it is a hard link (soft, external and
/// user-defined links report 0). Return 0 to continue, non-zero to stop.
typedef int (*cmvlm_h5_link_visitor)(const char *name, int is_hard, void *context);

struct cmvlm_h5_link_visit {
    cmvlm_h5_link_visitor visitor;
    void *context;
};

static herr_t cmvlm_h5_link_trampoline(
    hid_t group, const char *name, const H5L_info_t *info, void *op_data) {
    (void)group;
    struct cmvlm_h5_link_visit *visit = (struct cmvlm_h5_link_visit *)op_data;
    int is_hard = info != NULL && info->type == H5L_TYPE_HARD;
    return visit->visitor(name, is_hard, visit->context) == 0 ? 0 : 1;
}

/// Visits the links of `group` in increasing order of `index` (`H5_INDEX_NAME` or
/// `H5_INDEX_CRT_ORDER`). Wraps `H5Literate` (`H5Literate2` since 1.12).
static inline herr_t cmvlm_h5_iterate_links(
    hid_t group, H5_index_t index, cmvlm_h5_link_visitor visitor, void *context) {
    struct cmvlm_h5_link_visit visit = {visitor, context};
    hsize_t position = 0;
    return H5Literate(group, index, H5_ITER_INC, &position, cmvlm_h5_link_trampoline, &visit);
}

/// True (1) when `group` records the creation order of its links, 0 when not, negative on error.
static inline int cmvlm_h5_group_tracks_creation_order(hid_t group) {
    hid_t gcpl = H5Gget_create_plist(group);
    if (gcpl < 0) return -1;
    unsigned flags = 0;
    herr_t status = H5Pget_link_creation_order(gcpl, &flags);
    H5Pclose(gcpl);
    if (status < 0) return -1;
    return (flags & H5P_CRT_ORDER_INDEXED) ? 1 : 0;
}

/// Called once per attribute of an object, in name order. Return 0 to continue.
typedef int (*cmvlm_h5_attribute_visitor)(const char *name, void *context);

struct cmvlm_h5_attribute_visit {
    cmvlm_h5_attribute_visitor visitor;
    void *context;
};

static herr_t cmvlm_h5_attribute_trampoline(
    hid_t location, const char *name, const H5A_info_t *info, void *op_data) {
    (void)location; (void)info;
    struct cmvlm_h5_attribute_visit *visit = (struct cmvlm_h5_attribute_visit *)op_data;
    return visit->visitor(name, visit->context) == 0 ? 0 : 1;
}

/// Visits the attribute names of `object` in name order (wraps `H5Aiterate2`).
static inline herr_t cmvlm_h5_iterate_attributes(
    hid_t object, cmvlm_h5_attribute_visitor visitor, void *context) {
    struct cmvlm_h5_attribute_visit visit = {visitor, context};
    hsize_t position = 0;
    return H5Aiterate2(
        object, H5_INDEX_NAME, H5_ITER_INC, &position, cmvlm_h5_attribute_trampoline, &visit);
}

/// Frees the variable-length data HDF5 allocated while reading `buffer` (`H5Treclaim` since
/// 1.12, `H5Dvlen_reclaim` before).
static inline herr_t cmvlm_h5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// MARK: Error stack

/// Called for each entry of the current error stack, innermost (most specific) first.
typedef void (*cmvlm_h5_error_visitor)(
    const char *description, const char *function, hid_t minor, void *context);

struct cmvlm_h5_error_visit {
    cmvlm_h5_error_visitor visitor;
    void *context;
};

static herr_t cmvlm_h5_error_trampoline(unsigned n, const H5E_error2_t *error, void *client) {
    (void)n;
    struct cmvlm_h5_error_visit *visit = (struct cmvlm_h5_error_visit *)client;
    visit->visitor(error->desc, error->func_name, error->min_num, visit->context);
    return 0;
}

/// Walks the default error stack from the innermost entry outwards, then clears it.
static inline void cmvlm_h5_walk_and_clear_errors(cmvlm_h5_error_visitor visitor, void *context) {
    struct cmvlm_h5_error_visit visit = {visitor, context};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cmvlm_h5_error_trampoline, &visit);
    H5Eclear2(H5E_DEFAULT);
}

#endif

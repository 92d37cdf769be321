/*
 * TRUST: the only native code in the enclave. Exposes
 *   nsmRaw(fd: number, request: Uint8Array, responseCapacity: number): Buffer
 * which performs ioctl(fd, NSM_IOCTL_RAW, &raw) on /dev/nsm, exactly as the
 * Linux uapi <linux/nsm.h> defines it, and returns the response bytes.
 * Built inside the enclave image (node-gyp rebuild in enclave/nsm/native),
 * never by npm install on developer machines.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <node_api.h>

struct nsm_iovec {
  uint64_t addr; /* user-space buffer address */
  uint64_t len;  /* buffer length; the driver writes the response length back */
};

struct nsm_raw {
  struct nsm_iovec request;
  struct nsm_iovec response;
};

/* _IOWR(0x0A, 0, struct nsm_raw): dir=3, size=32, type=0x0A, nr=0. */
#define NSM_IOCTL_RAW 0xC0200A00UL
#define NSM_REQUEST_MAX_SIZE 0x1000
#define NSM_RESPONSE_MAX_SIZE 0x3000

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value NsmRaw(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3)
    return fail(env, "EINVAL", "nsmRaw(fd, request, responseCapacity)");

  int32_t fd;
  uint32_t capacity;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0)
    return fail(env, "EINVAL", "fd must be a non-negative integer");
  if (napi_get_value_uint32(env, argv[2], &capacity) != napi_ok || capacity == 0 ||
      capacity > NSM_RESPONSE_MAX_SIZE)
    return fail(env, "EINVAL", "responseCapacity must be 1..0x3000");

  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return fail(env, "EINVAL", "request must be a Uint8Array");
  if (length == 0 || length > NSM_REQUEST_MAX_SIZE)
    return fail(env, "EINVAL", "request must be 1..0x1000 bytes");

  uint8_t *response = calloc(1, capacity);
  if (response == NULL) return fail(env, "ENOMEM", "out of memory");

  struct nsm_raw raw;
  memset(&raw, 0, sizeof raw);
  raw.request.addr = (uint64_t)(uintptr_t)data;
  raw.request.len = length;
  raw.response.addr = (uint64_t)(uintptr_t)response;
  raw.response.len = capacity;

  int rc;
  do {
    rc = ioctl(fd, NSM_IOCTL_RAW, &raw);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    free(response);
    return fail(env, "EIO", strerror(err));
  }
  if (raw.response.len > capacity) {
    free(response);
    return fail(env, "EIO", "driver reported a response longer than the buffer");
  }

  napi_value result;
  void *out;
  napi_status status = napi_create_buffer_copy(env, (size_t)raw.response.len, response, &out, &result);
  free(response);
  if (status != napi_ok) return fail(env, "ENOMEM", "cannot allocate the response buffer");
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "nsmRaw", NAPI_AUTO_LENGTH, NsmRaw, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "nsmRaw", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

/*
 * Memory for direct writes. Page-aligned memory: O_DIRECT writes need buffers whose address is a
 * multiple of the device's block size, and Node's allocator gives no such promise. And freeing a
 * buffer at once: what a chunk of an upload held is otherwise freed only at V8's next collection.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>

static void release(napi_env env, void *data, void *hint) {
  free(data);
}

/* allocate(size, alignment) -> ArrayBuffer whose first byte sits at a multiple of `alignment` (a power of two). */
static napi_value Allocate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int64_t size, alignment;
  void *memory = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (napi_get_value_int64(env, argv[0], &size) != napi_ok || napi_get_value_int64(env, argv[1], &alignment) != napi_ok || size <= 0 || alignment <= 0) {
    napi_throw_type_error(env, NULL, "allocate(size, alignment) takes two positive integers");
    return NULL;
  }
  if (posix_memalign(&memory, (size_t)alignment, (size_t)size) != 0) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_create_external_arraybuffer(env, memory, (size_t)size, release, NULL, &result) != napi_ok) {
    free(memory);
    napi_throw_error(env, NULL, "cannot wrap aligned memory in an ArrayBuffer");
    return NULL;
  }
  return result;
}

/*
 * detach(arrayBuffer) -> whether it was detached: its memory freed now, it and every view on it
 * empty from then on. False for anything else (not an ArrayBuffer, or one that may not be detached).
 */
static napi_value Detach(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_boolean(env, argc >= 1 && napi_detach_arraybuffer(env, argv[0]) == napi_ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "allocate", NAPI_AUTO_LENGTH, Allocate, NULL, &fn);
  napi_set_named_property(env, exports, "allocate", fn);
  napi_create_function(env, "detach", NAPI_AUTO_LENGTH, Detach, NULL, &fn);
  napi_set_named_property(env, exports, "detach", fn);
  return exports;
}

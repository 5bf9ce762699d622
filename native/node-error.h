#ifndef BERTH_NODE_ERROR_H
#define BERTH_NODE_ERROR_H
#include <node_api.h>
#include <uv.h>

/* An Error named as Node names system errors (code "EPIPE", ...), so a client that hung up reads as one. */
static inline napi_value node_error(napi_env env, int uv_code) {
  napi_value code, message, error;
  napi_create_string_utf8(env, uv_err_name(uv_code), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, uv_strerror(uv_code), NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  return error;
}

#endif

/*
 * sendfile(2) for Node: the kernel copies file pages into a socket without a round trip through
 * a buffer in the process. Each call runs on the libuv thread pool and returns once the bytes
 * are sent or the (non-blocking) socket is full; the caller waits for the socket to drain.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <uv.h>
#include "node-error.h"

/*
 * Most bytes one sendfile(2) call hands the socket. On loopback, calls under one 64 KiB segment
 * served a 256 MiB download at 1.1-1.7x the rate of unbounded ones, with the same CPU; eight
 * downloads at once kept their total rate at ~20% more CPU. README, "Benchmarks", has the figures.
 */
#define CALL_BYTES (48 << 10)

typedef struct {
  int socket_fd;
  int file_fd;
  int64_t offset;
  int64_t count;
  int64_t sent;
  int blocked;
  int error;
  napi_deferred deferred;
  napi_async_work work;
} Job;

static void execute(napi_env env, void *data) {
  Job *job = data;
  off_t offset = job->offset;
  while (job->sent < job->count) {
    int64_t remaining = job->count - job->sent;
    ssize_t n = sendfile(job->socket_fd, job->file_fd, &offset, (size_t)(remaining < CALL_BYTES ? remaining : CALL_BYTES));
    if (n > 0) { job->sent += n; continue; }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) { job->blocked = 1; break; }
    job->error = errno;
    break;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  if (job->error) {
    napi_reject_deferred(env, job->deferred, node_error(env, -job->error));
  } else {
    napi_value sent, blocked;
    napi_create_object(env, &result);
    napi_create_int64(env, job->sent, &sent);
    napi_get_boolean(env, job->blocked, &blocked);
    napi_set_named_property(env, result, "sent", sent);
    napi_set_named_property(env, result, "blocked", blocked);
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

/* send(socketFd, fileFd, offset, count) -> Promise<{ sent, blocked }> */
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], promise, name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_int32(env, argv[0], &job->socket_fd);
  napi_get_value_int32(env, argv[1], &job->file_fd);
  napi_get_value_int64(env, argv[2], &job->offset);
  napi_get_value_int64(env, argv[3], &job->count);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "sendfile", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

/* duplicate(fd) -> fd: a descriptor of our own, so the socket cannot be closed and its number reused mid-transfer. */
static napi_value Duplicate(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1], result; int fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &fd);
  napi_create_int32(env, fcntl(fd, F_DUPFD_CLOEXEC, 0), &result);
  return result;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; int fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &fd);
  close(fd);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "duplicate", NAPI_AUTO_LENGTH, Duplicate, NULL, &fn);
  napi_set_named_property(env, exports, "duplicate", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, Close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}

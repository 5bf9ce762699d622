/*
 * splice(2) for Node: relays bytes from one socket to another through a pipe in the kernel, without
 * copying them into the process. Each relay runs on a thread of its own that waits on both sockets
 * (poll), so a slow peer holds no thread of the libuv pool; an eventfd written by the caller stops it.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>
#include "node-error.h"

/* The largest pipe an unprivileged process may ask for (fs.pipe-max-size): fewer splice calls per byte. */
#define PIPE_BYTES (1 << 20)

typedef struct {
  int in_fd, out_fd, cancel_fd, idle_ms;
  int64_t count, moved;
  int error; /* a libuv error code (negative errno, or UV_EOF when the source ended early) */
  napi_deferred deferred;
  napi_threadsafe_function done;
} Relay;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Moves count bytes, or stops at the first error, a cancel, or idle_ms without progress either way. */
static void relay(Relay *r) {
  int pipefd[2];
  if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0) { r->error = -errno; return; }
  fcntl(pipefd[1], F_SETPIPE_SZ, PIPE_BYTES);
  int64_t buffered = 0;
  while (r->moved < r->count && !r->error) {
    int progressed = 0;
    int64_t wanted = min64(r->count - r->moved - buffered, PIPE_BYTES - buffered);
    if (wanted > 0) {
      ssize_t n = splice(r->in_fd, NULL, pipefd[1], NULL, (size_t)wanted, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) { buffered += n; progressed = 1; }
      else if (n == 0) { r->error = UV_EOF; break; }
      else if (errno != EAGAIN && errno != EINTR) { r->error = -errno; break; }
    }
    if (buffered > 0) {
      unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (r->moved + buffered < r->count ? SPLICE_F_MORE : 0);
      ssize_t n = splice(pipefd[0], NULL, r->out_fd, NULL, (size_t)buffered, flags);
      if (n > 0) { buffered -= n; r->moved += n; progressed = 1; }
      else if (n < 0 && errno != EAGAIN && errno != EINTR) { r->error = -errno; break; }
    }
    if (progressed) continue;
    struct pollfd fds[3] = {
      { .fd = r->cancel_fd, .events = POLLIN },
      { .fd = wanted > 0 ? r->in_fd : -1, .events = POLLIN },
      { .fd = buffered > 0 ? r->out_fd : -1, .events = POLLOUT },
    };
    int ready = poll(fds, 3, r->idle_ms);
    if (ready == 0) r->error = UV_ETIMEDOUT;
    else if (ready < 0 && errno != EINTR) r->error = -errno;
    else if (ready > 0 && fds[0].revents) r->error = UV_ECANCELED;
  }
  close(pipefd[0]);
  close(pipefd[1]);
}

static void *run(void *data) {
  Relay *r = data;
  relay(r);
  napi_threadsafe_function done = r->done;
  napi_call_threadsafe_function(done, r, napi_tsfn_blocking);
  napi_release_threadsafe_function(done, napi_tsfn_release);
  return NULL;
}

static void settle(napi_env env, napi_value js_callback, void *context, void *data) {
  Relay *r = data;
  napi_value result;
  if (r->error) {
    result = node_error(env, r->error);
    napi_value moved;
    napi_create_int64(env, r->moved, &moved);
    napi_set_named_property(env, result, "moved", moved);
    napi_reject_deferred(env, r->deferred, result);
  } else {
    napi_create_int64(env, r->moved, &result);
    napi_resolve_deferred(env, r->deferred, result);
  }
  free(r);
}

/* relay(inFd, outFd, count, cancelFd, idleMs) -> Promise<moved>; a rejection names the error as Node does and carries `moved`. */
static napi_value StartRelay(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], promise, name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Relay *r = calloc(1, sizeof(Relay));
  if (!r) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  napi_get_value_int32(env, argv[0], &r->in_fd);
  napi_get_value_int32(env, argv[1], &r->out_fd);
  napi_get_value_int64(env, argv[2], &r->count);
  napi_get_value_int32(env, argv[3], &r->cancel_fd);
  napi_get_value_int32(env, argv[4], &r->idle_ms);
  napi_create_promise(env, &r->deferred, &promise);
  napi_create_string_utf8(env, "splice", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, settle, &r->done);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 << 10);
  pthread_t thread;
  int failed = pthread_create(&thread, &attr, run, r);
  pthread_attr_destroy(&attr);
  if (failed) {
    napi_release_threadsafe_function(r->done, napi_tsfn_release);
    r->error = -failed;
    settle(env, NULL, NULL, r);
  }
  return promise;
}

/* eventfd() -> fd: writing 8 bytes to it cancels the relays given it. */
static napi_value Eventfd(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_int32(env, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "relay", NAPI_AUTO_LENGTH, StartRelay, NULL, &fn);
  napi_set_named_property(env, exports, "relay", fn);
  napi_create_function(env, "eventfd", NAPI_AUTO_LENGTH, Eventfd, NULL, &fn);
  napi_set_named_property(env, exports, "eventfd", fn);
  return exports;
}

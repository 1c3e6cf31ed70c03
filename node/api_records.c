/* SPDX-License-Identifier: MIT */
/* Record routes: placeholder until issue #4 lands (501 everywhere). */
#include "node/api.h"

static void
not_yet(struct http_request *req, void *arg)
{
    api_error(arg, req, 501, "not_implemented",
              "records are not available yet");
}

void
api_records_put(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_get(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_history(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_list(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_batch(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_retire(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_records_correct(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

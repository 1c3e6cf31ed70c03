/* SPDX-License-Identifier: MIT */
/* Catalog routes: placeholder until issue #4 lands (501 everywhere). */
#include "node/api.h"

static void
not_yet(struct http_request *req, void *arg)
{
    api_error(arg, req, 501, "not_implemented",
              "catalog entries are not available yet");
}

void
api_catalog_create(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_list(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_get(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_history(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_update(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_submit(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_review(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

void
api_catalog_retire(struct http_request *req, void *arg)
{
    not_yet(req, arg);
}

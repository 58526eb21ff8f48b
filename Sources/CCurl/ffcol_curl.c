#include "ffcol_curl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p && !load_error[0]) {
        snprintf(load_error, sizeof load_error, "libcurl has no symbol %s", name);
    }
    return p;
}

static void load(void) {
    // The runtime library's name (package libcurl4); the unversioned name exists only where
    // the -dev package is installed.
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(load_error, sizeof load_error, "%s", e ? e : "libcurl.so.4 not found");
        return;
    }
    api.global_init = (CURLcode (*)(long))sym(lib, "curl_global_init");
    api.easy_init = (CURL *(*)(void))sym(lib, "curl_easy_init");
    api.easy_cleanup = (void (*)(CURL *))sym(lib, "curl_easy_cleanup");
    api.easy_perform = (CURLcode (*)(CURL *))sym(lib, "curl_easy_perform");
    api.easy_strerror = (const char *(*)(CURLcode))sym(lib, "curl_easy_strerror");
    api.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))sym(lib, "curl_easy_setopt");
    api.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))sym(lib, "curl_easy_getinfo");
    api.slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))sym(lib, "curl_slist_append");
    api.slist_free_all = (void (*)(struct curl_slist *))sym(lib, "curl_slist_free_all");
    if (load_error[0]) return;
    CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s", api.easy_strerror(rc));
    }
}

int ffcol_curl_load(char *err, size_t errlen) {
    pthread_once(&once, load);
    if (!load_error[0]) return 0;
    if (err && errlen) snprintf(err, errlen, "%s", load_error);
    return -1;
}

CURL *ffcol_curl_easy_init(void) { return api.easy_init(); }
void ffcol_curl_easy_cleanup(CURL *h) { api.easy_cleanup(h); }
CURLcode ffcol_curl_easy_perform(CURL *h) { return api.easy_perform(h); }
const char *ffcol_curl_easy_strerror(CURLcode c) { return api.easy_strerror(c); }
struct curl_slist *ffcol_curl_slist_append(struct curl_slist *l, const char *s) { return api.slist_append(l, s); }
void ffcol_curl_slist_free_all(struct curl_slist *l) { api.slist_free_all(l); }

CURLcode ffcol_curl_setopt_long(CURL *h, CURLoption o, long v) { return api.easy_setopt(h, o, v); }
CURLcode ffcol_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return api.easy_setopt(h, o, v); }
CURLcode ffcol_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return api.easy_setopt(h, o, v); }
CURLcode ffcol_curl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return api.easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
CURLcode ffcol_curl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return api.easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
CURLcode ffcol_curl_setopt_read(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return api.easy_setopt(h, CURLOPT_READFUNCTION, f);
}
CURLcode ffcol_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return api.easy_getinfo(h, i, v); }
CURLcode ffcol_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return api.easy_getinfo(h, i, v); }
CURLcode ffcol_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return api.easy_getinfo(h, i, v); }

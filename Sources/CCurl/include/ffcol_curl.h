#ifndef FFCOL_CURL_H
#define FFCOL_CURL_H
// libcurl, loaded on first use with dlopen instead of linked: only `download`, `ingest` and
// `status` talk to S3, and linking libcurl makes every ffcol process (a one-ticker `scan`
// too) load and relocate it and its ~30 dependencies at start-up. The types and constants
// come from libcurl's headers (libcurl4-openssl-dev); the functions go through a table filled
// by ffcol_curl_load(). Typed wrappers exist for curl_easy_setopt/curl_easy_getinfo because
// they are variadic, which Swift cannot call.
#include <stddef.h>
#include <curl/curl.h>

/// Loads libcurl (libcurl.so.4) and runs curl_global_init, once per process (thread-safe).
/// Returns 0 on success; otherwise writes why into err (dlerror's text) and returns -1.
/// Every other function here may be called only after it returned 0.
int ffcol_curl_load(char *err, size_t errlen);

CURL *ffcol_curl_easy_init(void);
void ffcol_curl_easy_cleanup(CURL *h);
CURLcode ffcol_curl_easy_perform(CURL *h);
const char *ffcol_curl_easy_strerror(CURLcode c);
struct curl_slist *ffcol_curl_slist_append(struct curl_slist *list, const char *s);
void ffcol_curl_slist_free_all(struct curl_slist *list);

CURLcode ffcol_curl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode ffcol_curl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode ffcol_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode ffcol_curl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *));
CURLcode ffcol_curl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *));
CURLcode ffcol_curl_setopt_read(CURL *h, size_t (*f)(char *, size_t, size_t, void *));
CURLcode ffcol_curl_getinfo_long(CURL *h, CURLINFO i, long *v);
CURLcode ffcol_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v);
CURLcode ffcol_curl_getinfo_double(CURL *h, CURLINFO i, double *v);
#endif

/* The HTML report's embedded style sheet and script (html_page.c). */
#ifndef REPORT_HTML_PAGE_H
#define REPORT_HTML_PAGE_H

extern const char html_page_css[];
extern const char html_page_js[];

#endif

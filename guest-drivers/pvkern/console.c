// SPDX-License-Identifier: MIT
#include "console.h"

#include <stdbool.h>
#include <stdint.h>

#include "hypercall.h"

/* A sink the formatter writes characters into. */
struct sink {
	void (*put)(struct sink *s, char c);
	char *buf;
	size_t size;
	size_t len; /* characters produced, even past size */
};

struct fmt_spec {
	int width;
	bool zero_pad;
	bool left;
	int longs; /* 0 int, 1 long, 2 long long */
};

static void emit(struct sink *s, char c)
{
	s->put(s, c);
	s->len++;
}

static void emit_padded(struct sink *s, const char *txt, size_t n,
			const struct fmt_spec *spec, char pad)
{
	int fill = spec->width > (int)n ? spec->width - (int)n : 0;

	/* A '-' sign must stay in front of zero padding. */
	if (pad == '0' && n && *txt == '-') {
		emit(s, *txt++);
		n--;
	}
	if (!spec->left)
		while (fill-- > 0)
			emit(s, pad);
	while (n--)
		emit(s, *txt++);
	if (spec->left)
		while (fill-- > 0)
			emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, bool negative,
			unsigned int base, bool upper,
			const struct fmt_spec *spec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[--i] = '-';
	emit_padded(s, tmp + i, sizeof(tmp) - i, spec,
		    spec->zero_pad && !spec->left ? '0' : ' ');
}

static const char *parse_spec(const char *f, struct fmt_spec *spec)
{
	*spec = (struct fmt_spec){ 0 };
	for (;; f++) {
		if (*f == '0')
			spec->zero_pad = true;
		else if (*f == '-')
			spec->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		spec->width = spec->width * 10 + (*f++ - '0');
	/* 'z' (size_t) is a long on x86-64. */
	for (; *f == 'l' || *f == 'z'; f++)
		spec->longs++;
	return f;
}

static uint64_t fetch_unsigned(va_list *ap, int longs)
{
	if (longs >= 2)
		return va_arg(*ap, unsigned long long);
	if (longs == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t fetch_signed(va_list *ap, int longs)
{
	if (longs >= 2)
		return va_arg(*ap, long long);
	if (longs == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void format_one(struct sink *s, char conv, const struct fmt_spec *spec,
		       va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = fetch_signed(ap, spec->longs);
		uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

		emit_number(s, mag, v < 0, 10, false, spec);
		break;
	}
	case 'u':
		emit_number(s, fetch_unsigned(ap, spec->longs), false, 10,
			    false, spec);
		break;
	case 'x':
	case 'X':
		emit_number(s, fetch_unsigned(ap, spec->longs), false, 16,
			    conv == 'X', spec);
		break;
	case 'p':
		emit(s, '0');
		emit(s, 'x');
		emit_number(s, (uintptr_t)va_arg(*ap, void *), false, 16, false,
			    spec);
		break;
	case 's': {
		const char *str = va_arg(*ap, const char *);

		if (!str)
			str = "(null)";
		emit_padded(s, str, strlen(str), spec, ' ');
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);

		emit_padded(s, &c, 1, spec, ' ');
		break;
	}
	default: /* '%' and anything unknown are printed as they are */
		emit(s, conv);
		break;
	}
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		struct fmt_spec spec;

		if (*fmt != '%') {
			emit(s, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &spec);
		if (!*fmt)
			break;
		format_one(s, *fmt++, &spec, &args);
	}
	va_end(args);
}

/* --- console sink: a line buffer flushed per line ------------------------ */

static struct spinlock console_lock;
static char line_buf[256];
static size_t line_len;

static void flush_locked(void)
{
	if (line_len)
		hc2(PVKVM_HC_CONSOLE_WRITE, line_buf, line_len);
	line_len = 0;
}

static void console_put(struct sink *s, char c)
{
	(void)s;
	line_buf[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line_buf))
		flush_locked();
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .put = console_put };

	spin_lock(&console_lock);
	format(&s, fmt, ap);
	spin_unlock(&console_lock);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void console_flush(void)
{
	spin_lock(&console_lock);
	flush_locked();
	spin_unlock(&console_lock);
}

/* --- string sink ---------------------------------------------------------- */

static void buffer_put(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .put = buffer_put, .buf = buf, .size = size };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* --- leaving -------------------------------------------------------------- */

void panic(const char *fmt, ...)
{
	static char msg[512];
	va_list ap;
	int n;

	console_flush();
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	hc2(PVKVM_HC_CRASH, msg, n);
	for (;;) /* CRASH does not return; if a VMM let it, stay put */
		hc1(PVKVM_HC_WAIT, 0);
}

void shutdown(int status)
{
	console_flush();
	hc1(PVKVM_HC_SHUTDOWN, status);
	panic("PVKVM_HC_SHUTDOWN returned");
}

# tests/: Criterion unit tests (tests/unit/*.c, one binary each, built plain,
# under TSan and under ASan+UBSan) and end-to-end tests (tests/e2e/).
UNIT_TESTS += $(sort $(wildcard tests/unit/*.c))
CHECK_SCRIPTS += tests/kmod/ring-kmod-check.sh

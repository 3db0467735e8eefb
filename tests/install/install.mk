# tests/install/: `make install` into a scratch DESTDIR, checked.
CHECK_SCRIPTS += tests/install/test-install.sh

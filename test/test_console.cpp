#define BOOST_TEST_MODULE console
#include <boost/test/unit_test.hpp>

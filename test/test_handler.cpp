#define BOOST_TEST_MODULE handler
#include <boost/test/unit_test.hpp>

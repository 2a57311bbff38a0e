#define BOOST_TEST_MODULE file_index
#include <boost/test/unit_test.hpp>

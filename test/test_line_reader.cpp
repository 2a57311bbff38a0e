#define BOOST_TEST_MODULE line_reader
#include <boost/test/unit_test.hpp>

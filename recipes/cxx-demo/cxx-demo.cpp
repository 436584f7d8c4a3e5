// C++ as a static musl binary: threads, exceptions, iostream and the standard library's
// containers, each behind an argument the recipe checks with a known answer.
#include <algorithm>
#include <atomic>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static int threads() {
    std::atomic<long> sum{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; t++)
        workers.emplace_back([&sum, t] {
            for (int i = t; i < 100; i += 4)
                sum += i;
        });
    for (auto &w : workers)
        w.join();
    std::cout << "sum " << sum << "\n";
    return 0;
}

static int exceptions() {
    try {
        std::vector<int> v(3);
        (void)v.at(7);
    } catch (const std::out_of_range &) {
        std::cout << "caught out_of_range\n";
    }
    try {
        throw std::runtime_error("boom");
    } catch (const std::exception &e) {
        std::cout << "caught " << e.what() << "\n";
    }
    return 0;
}

static int streams() {
    std::map<std::string, int> counts;
    std::istringstream words("b a c a b a");
    for (std::string w; words >> w;)
        counts[w]++;
    std::ostringstream out;
    for (const auto &[word, n] : counts)
        out << word << "=" << std::setw(2) << std::setfill('0') << n << " ";
    std::string text = out.str();
    std::reverse(text.begin(), text.end());
    std::cout << text << "\n";
    return 0;
}

int main(int argc, char **argv) {
    std::string what = argc > 1 ? argv[1] : "";
    if (what == "threads")
        return threads();
    if (what == "exceptions")
        return exceptions();
    if (what == "streams")
        return streams();
    std::cerr << "usage: cxx-demo threads|exceptions|streams\n";
    return 2;
}

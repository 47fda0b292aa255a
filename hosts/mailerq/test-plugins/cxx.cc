// A C++ plugin: entry points inside extern "C", everything else hidden.
// With -DWITH_STD_TEMPLATES it instantiates std::vector, whose instantiations
// stay default-visible under -fvisibility=hidden.
#include "mailerq.h"

#include <string>
#ifdef WITH_STD_TEMPLATES
#include <vector>
#endif

namespace {

class Greeting {
public:
    explicit Greeting(const char *who) : text_("hello ") { text_ += who; }
    virtual ~Greeting() = default;
    virtual const std::string &text() const { return text_; }

private:
    std::string text_;
};

}  // namespace

extern "C" {

MQ_EXPORT int mq_version(void) MQ_NOEXCEPT
{
    return MQ_API_VERSION;
}

MQ_EXPORT bool mq_smtp_in_mailfrom(MQ_Context *, MQ_Connection *, MQ_Address *address) MQ_NOEXCEPT
{
    Greeting greeting(MQ_email(address));
    MQ_log(MQ_INFO, greeting.text().c_str());
#ifdef WITH_STD_TEMPLATES
    std::vector<std::string> letters;
    for (char c : greeting.text())
        letters.push_back(std::string(1, c));
    MQ_log(MQ_INFO, letters.back().c_str());
#endif
    return false;
}

}  // extern "C"

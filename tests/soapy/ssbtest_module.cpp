// A SoapySDR device module for ssbguard's tests: driver "ssbtest", one RX channel, CF32,
// samples produced at the set rate (a tone at rate/8), with injectable faults via args:
//   overflow_every=N   every N-th read returns SOAPY_SDR_OVERFLOW
//   timeout_at=N       reads N..N+timeout_count-1 time out (timeout_count default 3)
//   lost_file=PATH     while PATH exists the device is unplugged: reads fail with
//                      SOAPY_SDR_STREAM_ERROR and opening fails
// Build: g++ -shared -fPIC -O2 -o libssbtest.so ssbtest_module.cpp $(pkg-config --cflags --libs SoapySDR)
#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Registry.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

using Clock = std::chrono::steady_clock;

static long arg_long(const SoapySDR::Kwargs &a, const char *k, long d) {
    auto it = a.find(k);
    return it == a.end() ? d : std::stol(it->second);
}
static bool exists(const std::string &p) { return !p.empty() && std::ifstream(p).good(); }

class TestDevice : public SoapySDR::Device {
    double rate = 1e6, freq = 0, gain = 0;
    bool agc = false;
    std::string antenna = "RX";
    long overflow_every, timeout_at, timeout_count, reads = 0;
    std::string lost_file;
    unsigned long long produced = 0;
    Clock::time_point t0;

public:
    explicit TestDevice(const SoapySDR::Kwargs &a)
        : overflow_every(arg_long(a, "overflow_every", 0)), timeout_at(arg_long(a, "timeout_at", 0)),
          timeout_count(arg_long(a, "timeout_count", 3)),
          lost_file(a.count("lost_file") ? a.at("lost_file") : "") {}
    std::string getDriverKey() const override { return "ssbtest"; }
    std::string getHardwareKey() const override { return "ssbtest"; }
    size_t getNumChannels(const int dir) const override { return dir == SOAPY_SDR_RX ? 1 : 0; }
    std::vector<std::string> listAntennas(const int, const size_t) const override { return {"RX", "CAL"}; }
    void setAntenna(const int, const size_t, const std::string &n) override {
        if (n != "RX" && n != "CAL") throw std::runtime_error("no antenna " + n);
        antenna = n;
    }
    std::string getAntenna(const int, const size_t) const override { return antenna; }
    bool hasGainMode(const int, const size_t) const override { return true; }
    void setGainMode(const int, const size_t, const bool a) override { agc = a; }
    bool getGainMode(const int, const size_t) const override { return agc; }
    // Clamped to 0..60 dB, so the readback can differ from the request.
    void setGain(const int, const size_t, const double g) override { gain = std::min(std::max(g, 0.0), 60.0); }
    double getGain(const int, const size_t) const override { return gain; }
    SoapySDR::Range getGainRange(const int, const size_t) const override { return SoapySDR::Range(0, 60); }
    void setFrequency(const int, const size_t, const double f, const SoapySDR::Kwargs &) override { freq = f; }
    double getFrequency(const int, const size_t) const override { return freq; }
    // Rates above 20 Msps are "rounded" to 20 Msps, to exercise the readback check.
    void setSampleRate(const int, const size_t, const double r) override { rate = std::min(r, 20e6); }
    double getSampleRate(const int, const size_t) const override { return rate; }
    std::vector<std::string> getStreamFormats(const int, const size_t) const override { return {SOAPY_SDR_CF32}; }
    std::string getNativeStreamFormat(const int, const size_t, double &fs) const override {
        fs = 1.0;
        return SOAPY_SDR_CF32;
    }
    SoapySDR::Stream *setupStream(const int dir, const std::string &fmt, const std::vector<size_t> &,
                                  const SoapySDR::Kwargs &) override {
        if (dir != SOAPY_SDR_RX || fmt != SOAPY_SDR_CF32) throw std::runtime_error("RX CF32 only");
        return reinterpret_cast<SoapySDR::Stream *>(this);
    }
    void closeStream(SoapySDR::Stream *) override {}
    size_t getStreamMTU(SoapySDR::Stream *) const override { return 4096; }
    int activateStream(SoapySDR::Stream *, const int, const long long, const size_t) override {
        t0 = Clock::now();
        produced = 0;
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *, const int, const long long) override { return 0; }
    int readStream(SoapySDR::Stream *, void *const *buffs, const size_t n, int &flags, long long &timeNs,
                   const long timeoutUs) override {
        flags = 0;
        ++reads;
        if (exists(lost_file)) return SOAPY_SDR_STREAM_ERROR;
        if (timeout_at > 0 && reads >= timeout_at && reads < timeout_at + timeout_count) {
            std::this_thread::sleep_for(std::chrono::microseconds(std::min(timeoutUs, 20000L)));
            return SOAPY_SDR_TIMEOUT;
        }
        if (overflow_every > 0 && reads % overflow_every == 0) {
            produced += n;  // those samples were lost in the "device"
            return SOAPY_SDR_OVERFLOW;
        }
        auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>((produced + n) / rate));
        std::this_thread::sleep_until(due);
        auto *out = static_cast<std::complex<float> *>(buffs[0]);
        for (size_t i = 0; i < n; ++i) {
            double ph = 2.0 * M_PI * double((produced + i) % 8) / 8.0;
            out[i] = std::complex<float>(0.1f * std::cos(ph), 0.1f * std::sin(ph));
        }
        produced += n;
        timeNs = (long long)(produced * 1e9 / rate);
        flags |= SOAPY_SDR_HAS_TIME;
        return (int)n;
    }
};

static SoapySDR::KwargsList find_ssbtest(const SoapySDR::Kwargs &args) {
    auto d = args.find("driver");
    if (d == args.end() || d->second != "ssbtest") return {};
    if (args.count("lost_file") && exists(args.at("lost_file"))) return {};
    SoapySDR::Kwargs k = args;
    k["label"] = "ssbguard test device";
    return {k};
}

static SoapySDR::Device *make_ssbtest(const SoapySDR::Kwargs &args) {
    if (args.count("lost_file") && exists(args.at("lost_file"))) throw std::runtime_error("unplugged");
    return new TestDevice(args);
}

static SoapySDR::Registry register_ssbtest("ssbtest", &find_ssbtest, &make_ssbtest, SOAPY_SDR_ABI_VERSION);

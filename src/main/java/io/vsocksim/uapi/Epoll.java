package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** epoll(7) numbers (include/uapi/linux/eventpoll.h) and {@code struct epoll_event}. */
@Linux(file = "include/uapi/linux/eventpoll.h", fn = "struct epoll_event")
public final class Epoll {
    public static final int EPOLL_CLOEXEC = Fcntl.O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDNORM = 0x040;
    public static final int EPOLLWRNORM = 0x100;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    public static final int EPOLLWAKEUP = 1 << 29;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;

    /** {@code INT_MAX / sizeof(struct epoll_event)}: 12 bytes, packed, on x86-64. */
    public static final int EP_MAX_EVENTS = Integer.MAX_VALUE / 12;

    /** {@code struct epoll_event}: the events and the caller's 64-bit data. */
    public static final class Event {
        public int events;
        public long data;

        public Event() {
        }

        public Event(int events, long data) {
            this.events = events;
            this.data = data;
        }

        @Override
        public String toString() {
            return "epoll_event{events=0x" + Integer.toHexString(events) + ", data=" + data + "}";
        }
    }

    private Epoll() {}
}

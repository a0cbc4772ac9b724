package io.celeriac.spring;

import io.celeriac.TaskRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;

/**
 * Registers the public {@code @Task} methods of every bean (on the bean's class, or on an interface it
 * implements, such as one shared with a typed client), as {@link TaskRegistry#register(Object)} does
 * for any object: the bean is built by Spring first, its dependencies injected as usual. The
 * methods are called on the bean itself, before any proxy wraps it (so {@code @Transactional} on a
 * task method does not apply: use a {@code TransactionTemplate} inside it, or call a transactional
 * bean from it).
 */
final class TaskBeans implements BeanPostProcessor {
    private final ObjectProvider<TaskRegistry> registry;

    TaskBeans(ObjectProvider<TaskRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) {
        if (!(bean instanceof TaskRegistry) && hasTasks(bean.getClass())) {
            registry.getObject().register(bean);
        }
        return bean;
    }

    /**
     * Not a JDK proxy: a typed client ({@code Celeriac.client(Interface)}) declared as a bean implements
     * the task interface too, and registered it would answer each task by sending it again.
     */
    private static boolean hasTasks(Class<?> type) {
        return !java.lang.reflect.Proxy.isProxyClass(type) && !type.getName().startsWith("org.springframework.")
                && TaskRegistry.declaresTasks(type);
    }
}

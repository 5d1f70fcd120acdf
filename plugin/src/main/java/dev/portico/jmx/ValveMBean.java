package dev.portico.jmx;

import javax.management.AttributeNotFoundException;
import javax.management.MBeanException;
import javax.management.ReflectionException;

import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.modeler.BaseModelMBean;

import dev.portico.config.Attribute;

/**
 * The valve's MBean (named as its class in mbeans-descriptors.xml, as Tomcat names ConnectorMBean
 * for its Connector): an attribute of the table is read through the valve's getter when it has
 * one, else through its generic {@code getProperty(name)}, so an attribute added to the table
 * needs no getter to be seen over JMX.
 */
public class ValveMBean extends BaseModelMBean {

    @Override
    public Object getAttribute(String name) throws AttributeNotFoundException, MBeanException, ReflectionException {
        Attribute attribute = name == null ? null : Attribute.named(name);
        if (attribute == null || !attribute.scope().onValve()) {
            return super.getAttribute(name);
        }
        return IntrospectionUtils.getProperty(resource, name);
    }
}
